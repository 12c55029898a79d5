import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import AuditEvent, Invitation, Membership
from cases.records.services import record_add
from cases.transitions import case_withdraw
from tests.factories import UserFactory, patient_case

pytestmark = pytest.mark.django_db


def _invite(client, case, email="helper@example.org", view_all=False):
    data = {"email": email}
    if view_all:
        data["can_view_all_records"] = "on"
    return client.post(f"/my/cases/{case.reference}/family/", data)


def _accept_link(mail) -> tuple[str, str]:
    match = re.search(r"http://\S+(/invitations/[0-9a-f-]+/)#(\S+)", mail.body)
    return match.group(1), match.group(2)


@pytest.fixture
def patient(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    return case, membership


def test_a_patient_invites_a_family_member_who_accepts(client, patient, mailoutbox, run_on_commit):
    case, membership = patient
    with run_on_commit():
        response = _invite(client, case)
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["helper@example.org"]
    assert case.diagnosis not in mail.body and case.patient_name not in mail.body
    path, token = _accept_link(mail)

    client.logout()
    assert 'name="token"' in client.get(path).text
    assert "Accept the invitation" in client.post(path, {"step": "check", "token": token}).text
    accepted = client.post(path, {"step": "accept", "token": token}, follow=True)
    assert accepted.redirect_chain[-1][0] == f"/my/cases/{case.reference}/records/"
    helper = Membership.objects.get(case=case, user__email="helper@example.org")
    assert helper.role == Membership.Role.CONTRIBUTOR
    assert helper.can_view_all_records is False
    assert Invitation.objects.get().accepted_at is not None

    client.logout()
    again = client.post(path, {"token": token})
    assert again.status_code == 400
    assert "expired or was already used" in again.text

    actions = set(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {"invitation.sent", "invitation.accepted"} <= actions
    client.force_login(membership.user)
    page = client.get(f"/my/cases/{case.reference}/family/")
    assert "helper@example.org" in page.text
    assert "Family invitation accepted" in page.text


def test_a_cancelled_invitation_cannot_be_accepted(client, patient, mailoutbox, run_on_commit):
    case, _ = patient
    with run_on_commit():
        _invite(client, case)
    invitation = Invitation.objects.get()
    client.post(
        f"/my/cases/{case.reference}/family/change/",
        {"action": "cancel-invitation", "invitation": str(invitation.public_id)},
    )
    path, token = _accept_link(mailoutbox[0])
    client.logout()
    response = client.post(path, {"token": token})
    assert response.status_code == 400
    assert "cancelled" in response.text
    assert not Membership.objects.filter(user__email="helper@example.org").exists()


def test_an_expired_invitation_cannot_be_accepted(client, patient, mailoutbox, run_on_commit):
    case, _ = patient
    with run_on_commit():
        _invite(client, case)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    path, token = _accept_link(mailoutbox[0])
    client.logout()
    response = client.post(path, {"token": token})
    assert response.status_code == 400
    assert "expired" in response.text


def test_an_invitation_token_works_only_for_its_own_invitation(
    client, patient, mailoutbox, run_on_commit
):
    case, _ = patient
    with run_on_commit():
        _invite(client, case, "first@example.org")
        _invite(client, case, "second@example.org")
    first_path, first_token = _accept_link(mailoutbox[0])
    second_path, _ = _accept_link(mailoutbox[1])
    client.logout()
    assert client.post(second_path, {"token": first_token}).status_code == 400
    assert client.post(first_path, {"token": "forged"}).status_code == 400


def test_the_patient_grants_and_removes_access(client, patient, mailoutbox, run_on_commit):
    case, membership = patient
    with run_on_commit():
        _invite(client, case)
    path, token = _accept_link(mailoutbox[0])
    client.logout()
    client.post(path, {"step": "accept", "token": token})
    client.force_login(membership.user)
    change = f"/my/cases/{case.reference}/family/change/"
    client.post(change, {"action": "grant-all", "member": "helper@example.org"})
    helper = Membership.objects.get(user__email="helper@example.org")
    assert helper.can_view_all_records is True
    client.post(change, {"action": "remove", "member": "helper@example.org"})
    helper.refresh_from_db()
    assert helper.revoked_at is not None
    actions = list(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert "access.granted" in actions and "access.revoked" in actions


def test_only_the_patient_manages_family(client, patient, mailoutbox, run_on_commit):
    case, _ = patient
    contributor = Membership.objects.create(
        case=case,
        user=UserFactory(),
        role=Membership.Role.CONTRIBUTOR,
    )
    client.force_login(contributor.user)
    assert client.get(f"/my/cases/{case.reference}/family/").status_code == 404
    assert _invite(client, case).status_code == 404


def test_inviting_someone_already_on_the_case_says_so(client, patient):
    case, membership = patient
    response = _invite(client, case, membership.user.email)
    assert "already helps with this case" in response.text
    assert not Invitation.objects.exists()


def test_a_bad_address_is_refused_clearly(client, patient):
    case, _ = patient
    response = _invite(client, case, "not-an-address")
    assert "Enter an e-mail address in the right format" in response.text


def test_an_expired_invitee_cannot_fetch_records(client, patient, mailoutbox, run_on_commit):
    from django.core.files.base import ContentFile

    from tests.records_support import pdf_bytes

    case, membership = patient
    with run_on_commit():
        _invite(client, case)
        record = record_add(
            case=case,
            file=ContentFile(pdf_bytes(), name="scan.pdf"),
            category="lab",
            uploaded_by=membership.user,
        ).record
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    path, token = _accept_link(mailoutbox[0])
    client.logout()
    client.post(path, {"step": "accept", "token": token})
    invitee = Membership.objects.filter(user__email="helper@example.org")
    assert not invitee.exists()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(email="helper@example.org"))
    url = f"/my/cases/{case.reference}/records/{record.public_id}/file/"
    assert client.get(url).status_code == 404


def test_nobody_joins_a_closed_case(client, patient):
    case, membership = patient
    case_withdraw(case=case, user=membership.user)
    response = _invite(client, case)
    assert "This case is closed" in response.text
    assert not Invitation.objects.exists()


def test_an_accepted_invitation_opened_again_says_so_instead_of_offering_accept(
    client, patient, mailoutbox, run_on_commit
):
    case, _membership = patient
    with run_on_commit():
        _invite(client, case)
    path, token = _accept_link(mailoutbox[0])
    client.logout()
    client.post(path, {"step": "accept", "token": token})

    # The invitee, still signed in, opens the e-mail's link again: straight to the case.
    again = client.get(path, follow=True)
    assert again.redirect_chain[-1][0] == f"/my/cases/{case.reference}/records/"
    assert "You accepted this invitation already." in again.text

    # Someone not signed in (another browser) is told at once, with no Accept button.
    client.logout()
    closed = client.get(path)
    assert "This invitation has already been accepted." in closed.text
    assert 'name="token"' not in closed.text


def test_a_cancelled_invitation_opened_again_says_so_at_once(
    client, patient, mailoutbox, run_on_commit
):
    case, _membership = patient
    with run_on_commit():
        _invite(client, case)
    path, _token = _accept_link(mailoutbox[0])
    Invitation.objects.update(revoked_at=timezone.now())
    client.logout()
    page = client.get(path)
    assert "cancelled by the person who sent it" in page.text
    assert 'name="token"' not in page.text
