"""Honest workflow guards: stale pages, outcomes after the opinion, withdrawal on request."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from cases import transitions, workspace
from cases.domain.workflow import Status
from cases.models import (
    AuditEvent,
    CaseEvent,
    CaseOutcome,
    MedicalDirection,
    Notification,
    Record,
    RecordCategory,
)
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    return staff_in("coordinator", username="coord")


@pytest.fixture
def colleague():
    return staff_in("coordinator", username="colleague")


def _opinion(case) -> Record:
    return Record.objects.create(
        case=case,
        category=RecordCategory.REVIEWER_OPINION,
        original_name="opinion.pdf",
        original=ContentFile(b"%PDF-1.4", name="opinion.pdf"),
        size=8,
        sha256="b" * 64,
        state=Record.State.READY,
    )


# --- Stale pages -----------------------------------------------------------------------------


def test_the_second_click_on_a_stale_page_is_told_and_nothing_applies_twice(coordinator, colleague):
    case, _ = patient_case(status=Status.TRIAGE)

    transitions.case_transition(
        case=case, to=Status.DRAFTING, actor=coordinator, expected=Status.TRIAGE
    )
    with pytest.raises(transitions.StaleTransition, match="now in “Drafting”"):
        transitions.case_transition(
            case=case, to=Status.AWAITING_RECORDS, actor=colleague, expected=Status.TRIAGE
        )

    case.refresh_from_db()
    assert case.status == Status.DRAFTING
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_page_names_the_new_status_by_its_label(coordinator, colleague, staff_login):
    case, _ = patient_case(status=Status.TRIAGE, assigned_coordinator=coordinator)
    transitions.case_transition(
        case=case, to=Status.AWAITING_RECORDS, actor=colleague, expected=Status.TRIAGE
    )

    page = staff_login(coordinator).post(
        f"/admin/cases/case/{case.pk}/transition/",
        {"to": "drafting", "expected": "triage"},
        follow=True,
    )

    assert "This case is now in “Awaiting records” (changed by colleague)" in page.text
    assert "now awaiting_records" not in page.text and "now awaiting records" not in page.text
    case.refresh_from_db()
    assert case.status == Status.AWAITING_RECORDS


def test_the_same_transition_clicked_twice_applies_once(coordinator, colleague):
    case, _ = patient_case(status=Status.SUBMITTED)

    transitions.case_transition(
        case=case, to=Status.TRIAGE, actor=coordinator, expected="submitted"
    )
    with pytest.raises(transitions.StaleTransition):
        transitions.case_transition(
            case=case, to=Status.TRIAGE, actor=colleague, expected="submitted"
        )

    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_transition_button_on_the_case_page_changes_nothing(
    coordinator, colleague, staff_login
):
    case, _ = patient_case(status=Status.TRIAGE)
    url = f"/admin/cases/case/{case.pk}/transition/"
    staff_login(coordinator).post(url, {"to": "drafting", "expected": "triage"})

    response = staff_login(colleague).post(
        url, {"to": "awaiting_records", "expected": "triage"}, follow=True
    )

    assert "while your page was open" in response.text
    case.refresh_from_db()
    assert case.status == Status.DRAFTING
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_transition_without_the_expected_status_is_refused_by_the_page(coordinator, staff_login):
    case, _ = patient_case(status=Status.SUBMITTED)
    staff_login(coordinator).post(f"/admin/cases/case/{case.pk}/transition/", {"to": "triage"})
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


# --- Outcome only after the opinion --------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.DRAFTING, Status.SHARED])
def test_an_outcome_cannot_be_released_before_the_opinion_arrives(coordinator, status):
    case, _ = patient_case(status=status)

    with pytest.raises(ValidationError, match="opinion"):
        workspace.outcome_release(
            case=case, opinion_summary="Summary", next_steps="Steps", confirmed=True, by=coordinator
        )

    assert not CaseOutcome.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(case=case, action="outcome.released").exists()


def test_the_opinion_received_status_needs_the_reviewers_opinion_as_a_record(coordinator):
    case, _ = patient_case(status=Status.SHARED)

    with pytest.raises(transitions.TransitionNotAllowed, match="opinion"):
        transitions.case_transition(case=case, to=Status.OPINION_RECEIVED, actor=coordinator)

    _opinion(case)
    transitions.case_transition(case=case, to=Status.OPINION_RECEIVED, actor=coordinator)
    outcome = workspace.outcome_release(
        case=case, opinion_summary="Summary", next_steps="Steps", confirmed=True, by=coordinator
    )
    assert outcome.released_at is not None


def test_an_outcome_is_released_only_when_the_coordinator_confirms_it(coordinator, staff_login):
    case, _ = patient_case(status=Status.SHARED, assigned_coordinator=coordinator)
    _opinion(case)
    transitions.case_transition(case=case, to=Status.OPINION_RECEIVED, actor=coordinator)
    url = f"/admin/cases/case/{case.pk}/outcome/"
    client = staff_login(coordinator)
    typed = {
        "opinion_summary": "The team agrees.",
        "next_steps": "See your GP.",
        "seen_release": "",
    }

    refused = client.post(url, typed)

    assert refused.status_code == 200
    assert "Tick the box to confirm the patient may read this now." in refused.text
    assert "The team agrees." in refused.text  # what was typed stays
    assert not CaseOutcome.objects.filter(case=case).exists()
    assert not Notification.objects.filter(case=case, kind="outcome_available").exists()
    with pytest.raises(ValidationError, match="Tick the box"):
        workspace.outcome_release(
            case=case, opinion_summary="S", next_steps="N", confirmed=False, by=coordinator
        )

    client.post(url, {**typed, "confirmed": "on"})

    assert CaseOutcome.objects.get(case=case).released_at is not None


def test_the_outcome_page_records_the_opinion_when_the_case_is_shared(coordinator, staff_login):
    from tests.records_support import pdf_bytes

    case, _ = patient_case(status=Status.SHARED)
    client = staff_login(coordinator)
    page = client.get(f"/admin/cases/case/{case.pk}/outcome/")
    assert "Opinion received" in page.text
    assert "Plain-English summary" not in page.text

    client.post(
        f"/admin/cases/case/{case.pk}/outcome/",
        {
            "action": "opinion",
            "expected": "shared",
            "opinion_file": ContentFile(pdf_bytes(pages=1, marker="op"), name="opinion.pdf"),
        },
    )

    case.refresh_from_db()
    assert case.status == Status.OPINION_RECEIVED
    assert case.records.filter(category=RecordCategory.REVIEWER_OPINION).exists()


# --- Withdrawal on the patient's request -------------------------------------------------------


def test_the_ordinary_buttons_cannot_withdraw_a_case(coordinator):
    case, _ = patient_case(status=Status.TRIAGE)
    with pytest.raises(transitions.TransitionNotAllowed, match="patient's request"):
        transitions.case_transition(
            case=case, to=Status.WITHDRAWN, actor=coordinator, note="asked", expected="triage"
        )
    case.refresh_from_db()
    assert case.status == Status.TRIAGE


@pytest.mark.parametrize(
    ("channel", "note", "confirmed", "error"),
    [
        ("", "Rang on Tuesday", True, "how the patient asked"),
        ("phone", "  ", True, "note"),
        ("phone", "Rang on Tuesday", False, "confirm"),
        ("pigeon", "Rang on Tuesday", True, "how the patient asked"),
    ],
)
def test_withdrawal_on_request_needs_channel_note_and_confirmation(
    coordinator, channel, note, confirmed, error
):
    case, _ = patient_case(status=Status.TRIAGE)

    with pytest.raises(ValidationError, match=error):
        workspace.case_withdraw_on_request(
            case=case,
            channel=channel,
            note=note,
            confirmed=confirmed,
            expected=Status.TRIAGE,
            by=coordinator,
        )

    case.refresh_from_db()
    assert case.status == Status.TRIAGE


def test_the_patient_sees_that_a_coordinator_withdrew_at_their_request(coordinator, client):
    case, membership = patient_case(status=Status.TRIAGE)

    workspace.case_withdraw_on_request(
        case=case,
        channel="phone",
        note="The patient rang to say they have chosen treatment at home.",
        confirmed=True,
        expected=Status.TRIAGE,
        by=coordinator,
    )

    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    event = CaseEvent.objects.get(case=case)
    assert event.channel == "phone"
    headline, detail = case.status_for_patient
    assert "You withdrew" not in headline
    assert "at your request" in headline
    assert "phone" in detail
    client.force_login(membership.user)
    page = client.get(f"/my/cases/{case.reference}/")
    assert "at your request" in page.text


def test_the_patient_withdrawing_themselves_still_reads_you_withdrew():
    case, membership = patient_case(status=Status.TRIAGE)
    transitions.case_withdraw(case=case, user=membership.user)
    case.refresh_from_db()
    assert case.status_for_patient[0] == "You withdrew this enquiry"


# --- Destructive transitions ask first -----------------------------------------------------------


def test_declining_from_the_case_page_asks_for_confirmation_first(coordinator, staff_login):
    case, _ = patient_case(status=Status.TRIAGE)
    client = staff_login(coordinator)
    url = f"/admin/cases/case/{case.pk}/transition/"

    asked = client.post(url, {"to": "declined", "expected": "triage", "note": "Not suitable."})

    assert asked.status_code == 200
    assert "Are you sure" in asked.text
    case.refresh_from_db()
    assert case.status == Status.TRIAGE

    client.post(
        url, {"to": "declined", "expected": "triage", "note": "Not suitable.", "confirm": "yes"}
    )
    case.refresh_from_db()
    assert case.status == Status.DECLINED


def test_the_case_page_has_no_withdrawn_button_beside_the_workflow(coordinator, staff_login):
    case, _ = patient_case(status=Status.TRIAGE, assigned_coordinator=coordinator)
    page = staff_login(coordinator).get(f"/admin/cases/case/{case.pk}/change/")
    assert 'value="withdrawn"' not in page.text
    assert "Withdraw on the patient's request" in page.text
    assert 'name="expected" value="triage"' in page.text


# --- Directions ----------------------------------------------------------------------------------


def test_a_high_risk_direction_needs_a_caution(coordinator):
    direction = MedicalDirection(
        area="cancer",
        name_en="Something new",
        name_zh="新",
        helps_with="x",
        cautions=" ",
        high_risk=True,
    )
    with pytest.raises(ValidationError, match="caution"):
        direction.full_clean()


def test_the_direction_admin_refuses_an_empty_caution_for_a_high_risk_direction(staff_login):
    manager = staff_in("manager", username="boss")
    direction = MedicalDirection.objects.get(name_en="CAR-T cell therapy")
    client = staff_login(manager)
    response = client.post(
        f"/admin/cases/medicaldirection/{direction.pk}/change/",
        {
            "area": direction.area,
            "name_en": direction.name_en,
            "name_zh": direction.name_zh,
            "helps_with": direction.helps_with,
            "helps_with_zh": direction.helps_with_zh,
            "cautions": "",
            "cautions_zh": "",
            "high_risk": "on",
            "essential_categories": direction.essential_categories,
            "in_area_checklist": "",
        },
    )
    assert response.status_code == 200
    direction.refresh_from_db()
    assert direction.cautions
