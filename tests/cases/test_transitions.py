import itertools

import pytest

from cases import services
from cases.domain.workflow import FINAL, TRANSITIONS, Status, allowed_targets
from cases.models import AuditEvent, Case, CaseEvent, Notification, StatusChangeRefused
from cases.transitions import TransitionNotAllowed, case_transition, case_withdraw
from tests.factories import StaffFactory, patient_case

ALL_PAIRS = list(itertools.product(Status, Status))
# A coordinator withdraws only on the patient's request, through its own action
# (tests/cases/workspace/test_guards.py); the patient's own withdrawal is tested below.
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a] and b != Status.WITHDRAWN]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]


def test_the_table_follows_the_design():
    assert allowed_targets(Status.SUBMITTED) == [Status.TRIAGE, Status.WITHDRAWN, Status.DECLINED]
    assert Status.DRAFTING in TRANSITIONS[Status.AWAITING_RECORDS]
    assert Status.AWAITING_RECORDS in TRANSITIONS[Status.DRAFTING]
    assert {Status.CLOSED, Status.WITHDRAWN, Status.DECLINED} == FINAL
    assert Status.DECLINED not in TRANSITIONS[Status.SHARED]


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_it_makes_every_allowed_transition_and_records_it(current, target):
    case, membership = patient_case(status=current)
    coordinator = StaffFactory()
    ready_to_share(case, membership.user, coordinator)

    case_transition(case=case, to=target, actor=coordinator, note="checked by phone")

    case.refresh_from_db()
    assert case.status == target
    event = CaseEvent.objects.get(case=case)
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        current,
        target,
        coordinator,
        "checked by phone",
    )
    audit = AuditEvent.objects.get(case=case, action=AuditEvent.Action.CASE_STATUS_CHANGED)
    assert audit.detail == {"from_status": current, "to_status": target}
    assert audit.actor == coordinator


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_it_refuses_every_other_transition_and_changes_nothing(current, target):
    case, _ = patient_case(status=current)

    with pytest.raises(TransitionNotAllowed):
        case_transition(case=case, to=target, actor=StaffFactory(), note="a reason")

    case.refresh_from_db()
    assert case.status == current
    assert not CaseEvent.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(case=case).exists()


def ready_to_share(case, patient, coordinator) -> None:
    """What ready and shared need beyond the table: an approved partner file, consent."""
    from django.utils import timezone

    from cases.domain.consents import ConsentKind
    from cases.models import CaseFile

    CaseFile.objects.create(
        case=case,
        variant="partner",
        version=1,
        state="ready",
        approved_by=coordinator,
        approved_at=timezone.now(),
    )
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=patient)
    # The reviewers' opinion is a record of its own before "opinion received".
    from django.core.files.base import ContentFile

    from cases.models import Record

    Record.objects.create(
        case=case,
        category="reviewer_opinion",
        original_name="opinion.pdf",
        original=ContentFile(b"%PDF-1.4", name="opinion.pdf"),
        size=8,
        sha256="c" * 64,
        state="ready",
    )


@pytest.mark.django_db
def test_ready_needs_an_approved_partner_case_file():
    case, _ = patient_case(status=Status.REVIEW)
    with pytest.raises(TransitionNotAllowed, match="partner case file"):
        case_transition(case=case, to=Status.READY, actor=StaffFactory())


@pytest.mark.django_db
def test_shared_needs_the_sharing_consent():
    case, _ = patient_case(status=Status.READY)
    with pytest.raises(TransitionNotAllowed, match="consent to sharing"):
        case_transition(case=case, to=Status.SHARED, actor=StaffFactory())


@pytest.mark.django_db
def test_declining_needs_a_reason():
    case, _ = patient_case(status=Status.TRIAGE)
    with pytest.raises(TransitionNotAllowed, match="needs a reason"):
        case_transition(case=case, to=Status.DECLINED, actor=StaffFactory(), note="  ")
    case.refresh_from_db()
    assert case.status == Status.TRIAGE


@pytest.mark.django_db
def test_a_patient_can_only_withdraw():
    case, membership = patient_case(status=Status.SUBMITTED)
    with pytest.raises(TransitionNotAllowed, match="Only a coordinator"):
        case_transition(case=case, to=Status.TRIAGE, actor=membership.user, by_patient=True)
    case_withdraw(case=case, user=membership.user)
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN


@pytest.mark.django_db
def test_a_coordinator_change_tells_the_patient_without_health_details(mailoutbox, run_on_commit):
    case, membership = patient_case(status=Status.SUBMITTED)
    with run_on_commit():
        case_transition(case=case, to=Status.TRIAGE, actor=StaffFactory())

    assert Notification.objects.get(case=case).state == Notification.State.SENT
    (mail,) = mailoutbox
    assert mail.to == [membership.user.email]
    assert case.reference in mail.subject
    assert case.diagnosis not in mail.body
    assert "/my/cases/" + case.reference in mail.body


@pytest.mark.django_db
def test_a_status_written_around_the_transition_service_is_refused():
    case, _ = patient_case(status=Status.SUBMITTED)

    case.status = Status.CLOSED
    with pytest.raises(StatusChangeRefused):
        case.save()
    with pytest.raises(StatusChangeRefused):
        case.save(update_fields=["status"])
    with pytest.raises(StatusChangeRefused):
        Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)
    with pytest.raises(StatusChangeRefused):
        Case.objects.bulk_update([case], ["status"])

    assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED
    assert not CaseEvent.objects.filter(case=case, to_status=Status.CLOSED).exists()


@pytest.mark.django_db
def test_other_fields_still_save_and_the_service_still_moves_the_case():
    case, _ = patient_case(status=Status.SUBMITTED)
    stale = Case.objects.get(pk=case.pk)

    case_transition(case=case, to=Status.TRIAGE, actor=StaffFactory())
    stale.interpretation_needs = "Mandarin interpreter"
    stale.save(update_fields=["interpretation_needs"])
    case.worries = "Waiting times"
    case.save(update_fields=["worries"])
    with pytest.raises(StatusChangeRefused):
        stale.save()  # a whole-row save would put "submitted" back

    saved = Case.objects.get(pk=case.pk)
    assert saved.status == Status.TRIAGE
    assert (saved.worries, saved.interpretation_needs) == ("Waiting times", "Mandarin interpreter")
    saved.language = "Mandarin"
    saved.save()
    assert Case.objects.get(pk=case.pk).language == "Mandarin"
