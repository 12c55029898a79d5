"""The patient's data page, erasure request, and deleting or replacing an upload."""

import pytest

from cases.audit import audit_log
from cases.models import AuditEvent, ErasureRequest, Record
from cases.models.case import status_change_allowed
from tests.factories import MembershipFactory, UserFactory, patient_case, staff_in
from tests.records_support import jpeg_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    return case, membership


def _upload(client, case, content, name="letter.pdf"):
    client.post(
        f"/my/cases/{case.reference}/records/",
        {
            "category": "lab",
            "files": [upload(name, content)],
            "document_date": "",
            "description": "",
        },
    )
    return Record.objects.get(case=case, original_name=name)


def test_who_has_seen_my_case_lists_staff_by_role_and_time(client, patient, staff_login):
    case, membership = patient
    coordinator = staff_in("coordinator", first_name="Ruth", last_name="Secretname")
    case.assigned_coordinator = coordinator
    case.save(update_fields=["assigned_coordinator"])
    staff_login(coordinator).get(f"/admin/cases/case/{case.pk}/change/")
    audit_log(action=AuditEvent.Action.CASE_VIEWED, actor=membership.user, case=case)

    page = client.get(f"/my/cases/{case.reference}/data/").text

    table = page.split('id="who-has-seen"')[1]
    assert "Coordinator" in table
    assert "Secretname" not in table
    assert table.count("<tr>") == 2  # the header and one staff view, not the patient's own


def test_a_patient_asks_for_erasure_and_can_cancel(client, patient):
    case, _ = patient
    url = f"/my/cases/{case.reference}/erasure/"
    refused = client.post(url, {})
    assert refused.status_code == 400
    assert "Tick the box" in refused.text
    assert not ErasureRequest.objects.exists()

    client.post(url, {"confirm": "on"})
    assert ErasureRequest.objects.filter(case=case).exists()
    assert "A coordinator will confirm" in client.get(f"/my/cases/{case.reference}/data/").text

    client.post(url, {"action": "cancel"})
    assert not ErasureRequest.objects.exists()
    assert AuditEvent.objects.filter(case=case, action="erasure.cancelled").exists()


def test_only_the_patient_reaches_the_data_page(client, patient):
    case, _ = patient
    helper = MembershipFactory(
        case=case, user=UserFactory(), role="contributor", can_view_all_records=True
    )
    client.force_login(helper.user)
    assert client.get(f"/my/cases/{case.reference}/data/").status_code == 404
    assert client.post(f"/my/cases/{case.reference}/data/export/").status_code == 404
    assert client.post(f"/my/cases/{case.reference}/erasure/", {"confirm": "on"}).status_code == 404


def test_the_coordinator_confirms_erasure_and_is_told_about_the_partner(
    client, patient, staff_login, run_on_commit
):
    case, _ = patient
    case.status = "shared"
    with status_change_allowed():  # test set-up: the case as the workflow left it
        case.save(update_fields=["status"])
    client.post(f"/my/cases/{case.reference}/erasure/", {"confirm": "on"})
    coordinator = staff_in("coordinator")
    staff = staff_login(coordinator)
    page = staff.get(f"/admin/cases/case/{case.pk}/erasure/")
    assert "shared with a partner" in page.text
    with run_on_commit():
        done = staff.post(f"/admin/cases/case/{case.pk}/erasure/", {"confirm": "yes"}, follow=True)
    assert "notify the partner" in done.text.lower() or "tell the partner" in done.text.lower()
    assert not type(case).objects.filter(pk=case.pk).exists()


def test_a_patient_deletes_an_upload_before_review(client, patient, private_storage, run_on_commit):
    case, membership = patient
    with run_on_commit():
        record = _upload(client, case, pdf_bytes())
    stored = [
        p for p in private_storage.rglob("*") if p.is_file() and str(record.public_id) in str(p)
    ]
    assert stored

    assert (
        client.get(f"/my/cases/{case.reference}/records/{record.public_id}/delete/").status_code
        == 200
    )
    with run_on_commit():
        client.post(f"/my/cases/{case.reference}/records/{record.public_id}/delete/")

    record.refresh_from_db()
    assert record.state == Record.State.DELETED
    assert record.deleted_by == membership.user
    assert not any(p.exists() for p in stored)
    assert str(record.public_id) not in client.get(f"/my/cases/{case.reference}/records/").text
    assert AuditEvent.objects.filter(case=case, action="record.deleted").exists()
    # The same file can be sent again later.
    with run_on_commit():
        again = _upload(client, case, pdf_bytes(), name="letter-again.pdf")
    again.refresh_from_db()
    assert again.state == Record.State.READY


def test_a_patient_replaces_an_upload(client, patient, run_on_commit):
    case, _ = patient
    with run_on_commit():
        record = _upload(client, case, pdf_bytes())
        response = client.post(
            f"/my/cases/{case.reference}/records/{record.public_id}/replace/",
            {"file": upload("better.jpg", jpeg_bytes())},
        )
    assert response.status_code == 302
    record.refresh_from_db()
    new = Record.objects.get(case=case, original_name="better.jpg")
    assert record.state == Record.State.DELETED and new.replaces == record
    assert new.category == "lab"


def test_a_hostile_replacement_is_refused_and_the_old_file_stays(client, patient, run_on_commit):
    case, _ = patient
    with run_on_commit():
        record = _upload(client, case, pdf_bytes())
        client.post(
            f"/my/cases/{case.reference}/records/{record.public_id}/replace/",
            {"file": upload("evil.pdf", b"MZ\x90\x00 not a pdf")},
        )
    record.refresh_from_db()
    new = Record.objects.get(case=case, original_name="evil.pdf")
    # The replacement is an upload like any other: refused by the checks, with the reason;
    # the old file is deleted only once its replacement is accepted, so nothing is lost.
    assert new.state == Record.State.REJECTED
    assert record.state == Record.State.READY


def test_uploads_cannot_be_changed_from_review_on(client, patient, run_on_commit):
    case, _ = patient
    with run_on_commit():
        record = _upload(client, case, pdf_bytes())
    with status_change_allowed():  # test set-up: the case as the workflow left it
        type(case).objects.filter(pk=case.pk).update(status="review")
    assert (
        client.post(f"/my/cases/{case.reference}/records/{record.public_id}/delete/").status_code
        == 404
    )
    record.refresh_from_db()
    assert record.state == Record.State.READY


def test_a_helper_may_delete_only_their_own_upload(client, patient, run_on_commit):
    case, _membership = patient
    with run_on_commit():
        record = _upload(client, case, pdf_bytes())
    helper = MembershipFactory(
        case=case, user=UserFactory(), role="contributor", can_view_all_records=True
    )
    client.force_login(helper.user)
    assert (
        client.post(f"/my/cases/{case.reference}/records/{record.public_id}/delete/").status_code
        == 404
    )
