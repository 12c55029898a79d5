"""Erasure: rows and files go, people only this case knew are emptied, a tombstone stays."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from cases.models import AuditEvent, Case, ErasureRequest, Notification
from cases.models.case import status_change_allowed
from cases.privacy import erasure
from tests.factories import MembershipFactory, StaffFactory, patient_case, staff_in
from tests.privacy.support import IDENTIFIERS, files_in, full_case

pytestmark = pytest.mark.django_db


def _erase(case, run_on_commit, by=None):
    with run_on_commit():
        return erasure.case_erase(case=case, by=by, reason=erasure.Reason.PATIENT_REQUEST)


def test_erasing_removes_the_case_its_rows_and_its_files(private_storage, run_on_commit):
    case, _membership = full_case()
    other, _ = full_case(contact_email="another.patient@example.org")
    kept = [
        p
        for p in files_in(private_storage)
        if any(str(r.public_id) in str(p) for r in other.records.all())
    ]
    reference = case.reference

    erased = _erase(case, run_on_commit)

    assert not Case.objects.filter(pk=reference).exists()
    assert files_in(private_storage) == kept
    assert erased.rows["Record"] == 2
    assert len(erased.files) >= 5
    assert Case.objects.filter(pk=other.pk).exists()


def test_erasing_removes_the_page_images_case_files_print(private_storage, run_on_commit):
    case, _membership = full_case()
    photo = case.records.get(original_name="scan.jpg")
    assert photo.page_image and photo.page_image.storage.exists(photo.page_image.name)

    erased = _erase(case, run_on_commit)

    assert photo.page_image.name in erased.files
    assert not photo.page_image.storage.exists(photo.page_image.name)
    assert files_in(private_storage) == []


def test_erasing_leaves_a_tombstone_and_does_not_touch_earlier_audit_rows(run_on_commit):
    case, _ = full_case()
    reference = case.reference
    earlier = list(AuditEvent.objects.filter(case_id=reference).values("pk", "action", "target"))
    assert earlier

    _erase(case, run_on_commit, by=StaffFactory())

    after = AuditEvent.objects.filter(case_id=reference).order_by("at", "pk")
    assert list(after.exclude(action="case.erased").values("pk", "action", "target")) == sorted(
        earlier, key=lambda e: e["pk"]
    )
    tombstone = after.get(action="case.erased")
    assert tombstone.detail["submitted"] == case.submitted_at.date().isoformat()
    assert tombstone.detail["reason"] == "patient_request"
    assert set(tombstone.detail) == {"reason", "submitted", "ended", "shared"}


def test_people_only_this_case_knew_are_emptied_others_are_kept(run_on_commit):
    case, membership = full_case()
    helper = case.memberships.get(role="contributor").user
    # The helper also helps with another case: their account stays as it is.
    second, _ = patient_case(contact_email="second.case@example.org")
    MembershipFactory(case=second, user=helper, role="contributor")

    _erase(case, run_on_commit)

    patient = get_user_model().objects.get(pk=membership.user.pk)
    assert patient.email == ""
    assert patient.username == f"erased-{patient.pk}"
    assert not patient.is_active
    assert not patient.has_usable_password()
    helper.refresh_from_db()
    assert helper.email == f"helper.{IDENTIFIERS['email']}"


def test_nothing_with_the_patients_identifiers_is_left_in_the_database(run_on_commit):
    case, _membership = full_case()
    Notification.objects.create(kind="sign_in_link", to_email=IDENTIFIERS["email"])

    _erase(case, run_on_commit)

    from django.apps import apps

    for model in apps.get_models():
        for row in model.objects.all().values():
            text = repr(row)
            for label, value in IDENTIFIERS.items():
                assert value not in text, f"{label} left in {model._meta.label}"


def test_a_shared_case_can_be_erased_and_says_the_partner_must_be_told(run_on_commit):
    case, _ = full_case()
    case.status = "shared"
    with status_change_allowed():  # test set-up: the case as the workflow left it
        case.save(update_fields=["status"])

    erased = _erase(case, run_on_commit)

    assert erased.was_shared
    assert any("partner" in line for line in erased.lines())
    assert AuditEvent.objects.get(action="case.erased", case_id=erased.reference).detail["shared"]


def test_a_request_asked_twice_is_one_request_and_a_coordinator_confirms_it(run_on_commit):
    case, membership = full_case()
    erasure.erasure_request(case=case, by=membership.user)
    erasure.erasure_request(case=case, by=membership.user)
    assert ErasureRequest.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.filter(case=case, action="erasure.requested").count() == 1

    with run_on_commit():
        erasure.erasure_confirm(case=case, by=staff_in("coordinator"))
    assert not Case.objects.filter(pk=case.pk).exists()


def test_a_coordinator_cannot_erase_without_a_request():
    case, _ = full_case()
    with pytest.raises(ValidationError):
        erasure.erasure_confirm(case=case, by=staff_in("coordinator"))
    assert Case.objects.filter(pk=case.pk).exists()


def test_the_command_needs_confirm_and_prints_what_it_removed(capsys, run_on_commit):
    case, _ = full_case()
    with pytest.raises(CommandError, match="--confirm"):
        call_command("erase_case", case.reference)
    assert Case.objects.filter(pk=case.pk).exists()

    with run_on_commit():
        call_command("erase_case", case.reference.lower().replace("-", ""), "--confirm")

    out = capsys.readouterr().out
    assert f"Erased case {case.reference}" in out
    assert "2 × Record" in out
    assert "stored file(s)" in out
    assert not Case.objects.filter(pk=case.pk).exists()


def test_the_command_refuses_an_unknown_reference():
    with pytest.raises(CommandError, match="No case"):
        call_command("erase_case", "MC-0000-0000", "--confirm")


def test_an_erased_case_ended_date_comes_from_its_final_status(run_on_commit):
    from datetime import timedelta

    from django.utils import timezone

    from cases.models import CaseEvent

    case, _ = full_case()
    ended = timezone.now() - timedelta(days=40)
    with status_change_allowed():  # test set-up: the case as the workflow left it
        Case.objects.filter(pk=case.pk).update(status="withdrawn")
    CaseEvent.objects.create(case=case, from_status="triage", to_status="withdrawn", at=ended)
    case.refresh_from_db()
    reference = case.reference
    _erase(case, run_on_commit)
    tombstone = AuditEvent.objects.get(action="case.erased", case_id=reference)
    assert tombstone.detail["ended"] == ended.date().isoformat()


def test_the_assigned_coordinator_is_told_of_a_request_and_the_queue_can_show_them(
    staff_login, run_on_commit
):
    from django.core import mail

    case, membership = full_case()
    coordinator = staff_in("coordinator", email="coord.erasure@example.org")
    case.assigned_coordinator = coordinator
    case.save(update_fields=["assigned_coordinator"])
    with run_on_commit():
        erasure.erasure_request(case=case, by=membership.user)
    [sent] = [m for m in mail.outbox if m.to == ["coord.erasure@example.org"]]
    assert f"/admin/cases/case/{case.pk}/erasure/" in sent.body
    assert IDENTIFIERS["diagnosis"] not in sent.body
    queue = staff_login(coordinator).get("/admin/cases/case/?assigned=me&attention=erasure")
    assert case.pk in queue.text


def test_deleting_a_case_file_or_a_data_download_removes_its_file(private_storage, run_on_commit):
    from django.core.files.base import ContentFile

    from cases.models import CaseFile, DataExport

    case, _ = full_case()
    case_file = CaseFile.objects.create(case=case, variant="internal", version=1)
    case_file.file.save("case-file.pdf", ContentFile(b"%PDF-1.7 test"), save=True)
    export = DataExport.objects.create(case=case, state="ready")
    export.file.save("data.zip", ContentFile(b"PK test"), save=True)
    before = files_in(private_storage)

    with run_on_commit():
        case_file.delete()
        DataExport.objects.filter(pk=export.pk).delete()

    after = files_in(private_storage)
    assert len(after) == len(before) - 2
    assert not [p for p in after if "case-file" in p.name or p.name == "data.zip"]


def test_the_patients_own_account_made_for_a_confirmation_link_is_emptied(run_on_commit):
    from tests.factories import UserFactory

    # A relative filled the enquiry in; the patient was sent their own link to confirm it
    # (an account was made for their address) but never became a member.
    case, _ = full_case(submitted_by_family=True, patient_email="patient.own@example.org")
    unconfirmed = UserFactory(email="patient.own@example.org", first_name=IDENTIFIERS["name"])
    assert not unconfirmed.case_memberships.exists()

    _erase(case, run_on_commit)

    unconfirmed.refresh_from_db()
    assert unconfirmed.email == "" and unconfirmed.first_name == ""
