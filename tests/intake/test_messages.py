"""Secure messages in the portal and the workspace."""

import pytest
from django.core import mail

from cases.models import AuditEvent, Message, Record
from tests.factories import MembershipFactory, UserFactory, patient_case, staff_in
from tests.records_support import pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(client):
    case, membership = patient_case()
    coordinator = staff_in("coordinator", email="coordinator@example.org")
    case.assigned_coordinator = coordinator
    case.save(update_fields=["assigned_coordinator"])
    client.force_login(membership.user)
    return case, membership, coordinator


def _url(case) -> str:
    return f"/my/cases/{case.reference}/messages/"


def test_a_patient_writes_and_the_coordinator_is_told_only_that_there_is_a_message(
    client, thread, run_on_commit
):
    case, membership, _coordinator = thread
    with run_on_commit():
        response = client.post(_url(case), {"body": "My scan is next Tuesday, diagnosis unchanged"})
    assert response.status_code == 302
    message = Message.objects.get(case=case)
    assert message.author == membership.user and not message.from_staff
    assert AuditEvent.objects.filter(
        case=case, action="message.sent", target=str(message.public_id)
    ).exists()
    [sent] = [m for m in mail.outbox if m.to == ["coordinator@example.org"]]
    assert "new message" in sent.body
    assert "Tuesday" not in sent.body and "diagnosis" not in sent.subject
    assert "next Tuesday" in client.get(_url(case)).text


def test_script_and_markup_are_shown_as_text(client, thread):
    case, *_ = thread
    client.post(_url(case), {"body": '<script>alert("x")</script><b>bold</b>'})
    page = client.get(_url(case)).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_long_message_is_refused_with_its_length_not_cut(client, thread):
    case, *_ = thread
    response = client.post(_url(case), {"body": "a" * 5001})
    assert response.status_code == 400
    assert "5,001 characters" in response.text
    assert not Message.objects.exists()
    assert "a" * 5001 in response.text  # what they wrote is still in the box


def test_an_attachment_becomes_a_record_and_a_hostile_one_is_refused(client, thread, run_on_commit):
    case, _membership, _ = thread
    with run_on_commit():
        client.post(
            _url(case),
            {
                "body": "Two files",
                "category": "lab",
                "files": [upload("bloods.pdf", pdf_bytes()), upload("x.pdf", b"MZ\x90\x00 evil")],
            },
        )
    message = Message.objects.get(case=case)
    attached = Record.objects.filter(message=message)
    assert {r.original_name: r.state for r in attached} == {
        "bloods.pdf": Record.State.READY,
        "x.pdf": Record.State.REJECTED,
    }
    assert attached.get(original_name="bloods.pdf").category == "lab"


def test_unread_counts_in_the_portal_and_the_queue(client, thread, staff_login, run_on_commit):
    case, _membership, coordinator = thread
    staff = staff_login(coordinator)
    with run_on_commit():
        client.post(_url(case), {"body": "First"})
        client.post(_url(case), {"body": "Second"})
    queue = staff.get("/admin/cases/case/?assigned=me").text
    assert 'title="2 unread messages"' in queue

    staff.get(f"/admin/cases/case/{case.pk}/messages/")
    assert 'title="2 unread messages"' not in staff.get("/admin/cases/case/?assigned=me").text

    with run_on_commit():
        staff.post(f"/admin/cases/case/{case.pk}/messages/", {"body": "Thank you"})
    assert "1 new message" in client.get("/my/").text
    assert "1 new" in client.get(f"/my/cases/{case.reference}/").text
    client.get(_url(case))
    assert "new message" not in client.get("/my/").text


def test_a_coordinators_reply_emails_the_patient_and_allowed_helpers_only(
    client, thread, staff_login, run_on_commit
):
    case, membership, coordinator = thread
    allowed = MembershipFactory(
        case=case,
        user=UserFactory(email="allowed@example.org"),
        role="contributor",
        can_view_all_records=True,
    )
    own_only = MembershipFactory(
        case=case,
        user=UserFactory(email="own@example.org"),
        role="contributor",
        can_view_all_records=False,
    )
    mail.outbox.clear()
    with run_on_commit():
        staff_login(coordinator).post(f"/admin/cases/case/{case.pk}/messages/", {"body": "Hi"})
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([membership.user.email, allowed.user.email])
    del own_only


def test_a_helper_without_the_patients_permission_sees_no_thread(client, thread):
    case, *_ = thread
    helper = MembershipFactory(
        case=case, user=UserFactory(), role="contributor", can_view_all_records=False
    )
    client.force_login(helper.user)
    assert client.get(_url(case)).status_code == 404
    assert client.post(_url(case), {"body": "hello"}).status_code == 404
    assert "Messages" not in client.get(f"/my/cases/{case.reference}/").text


def test_a_helper_the_patient_allows_can_read_and_write(client, thread):
    case, *_ = thread
    helper = MembershipFactory(
        case=case, user=UserFactory(), role="contributor", can_view_all_records=True
    )
    client.force_login(helper.user)
    assert client.post(_url(case), {"body": "From the daughter"}).status_code == 302
    assert Message.objects.get(case=case).author == helper.user


def test_a_coordinator_without_access_to_the_case_cannot_read_its_messages(thread, staff_login):
    case, _membership, _coordinator = thread
    other = staff_in("coordinator")
    response = staff_login(other).get(f"/admin/cases/case/{case.pk}/messages/")
    assert response.status_code in (302, 403, 404)
    assert "messages" not in response.get("Location", "")


def test_strangers_get_404(client, thread):
    case, *_ = thread
    client.force_login(UserFactory())
    assert client.get(_url(case)).status_code == 404


def test_a_translator_cannot_read_the_thread(thread, staff_login):
    case, *_ = thread
    response = staff_login(staff_in("translator")).get(f"/admin/cases/case/{case.pk}/messages/")
    assert response.status_code in (403, 404)
