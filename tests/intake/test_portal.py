import pytest

from cases.domain.workflow import Status
from cases.models import AuditEvent, CaseEvent, Membership
from tests.factories import MembershipFactory, UserFactory, patient_case

pytestmark = pytest.mark.django_db


def test_the_portal_lists_my_cases_only(client):
    mine, membership = patient_case()
    theirs, _ = patient_case()
    client.force_login(membership.user)
    page = client.get("/my/")
    assert mine.reference in page.text
    assert theirs.reference not in page.text


def test_the_portal_needs_sign_in(client):
    response = client.get("/my/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_a_member_sees_the_status_questions_and_preparation_checklist(client):
    case, membership = patient_case(questions=["<b>Is surgery possible?</b>"])
    client.force_login(membership.user)
    page = client.get(f"/my/cases/{case.reference}/")
    assert page.status_code == 200
    assert "We have received your enquiry" in page.text
    assert "&lt;b&gt;Is surgery possible?&lt;/b&gt;" in page.text
    assert "How will I discuss the results with my UK clinicians?" in page.text
    assert AuditEvent.objects.filter(action="case.viewed", case=case).count() == 1


@pytest.mark.parametrize("who", ["stranger", "revoked", "anonymous", "staff"])
def test_anyone_but_a_member_gets_404(client, who):
    case, _ = patient_case()
    if who == "stranger":
        client.force_login(UserFactory())
    elif who == "revoked":
        from django.utils import timezone

        revoked = MembershipFactory(
            case=case, role=Membership.Role.VIEWER, revoked_at=timezone.now()
        )
        client.force_login(revoked.user)
    elif who == "staff":
        client.force_login(UserFactory(is_staff=True))
    for path in ["", "withdraw/"]:
        response = client.get(f"/my/cases/{case.reference}/{path}")
        if who == "anonymous":
            assert response.status_code == 302
        else:
            assert response.status_code == 404


def test_a_malformed_reference_is_404(client):
    _case, membership = patient_case()
    client.force_login(membership.user)
    assert client.get("/my/cases/MC-0000-0000/").status_code == 404
    assert client.get("/my/cases/1/").status_code == 404


def test_the_patient_ticks_preparation_questions(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    client.post(f"/my/cases/{case.reference}/preparation/", {"ticked": ["records", "diagnosis"]})
    case.refresh_from_db()
    assert case.preparation_ticked == ["diagnosis", "records"]
    page = client.get(f"/my/cases/{case.reference}/")
    assert page.text.count("checked") == 2

    client.post(f"/my/cases/{case.reference}/preparation/", {"ticked": ["bogus"]})
    case.refresh_from_db()
    assert case.preparation_ticked == ["diagnosis", "records"]


def test_the_patient_withdraws_after_confirming(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    confirm = client.get(f"/my/cases/{case.reference}/withdraw/")
    assert "Are you sure" in confirm.text
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED  # a GET changes nothing

    client.post(f"/my/cases/{case.reference}/withdraw/")
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    event = CaseEvent.objects.get(case=case)
    assert event.actor == membership.user
    assert AuditEvent.objects.filter(case=case, action="case.status_changed").exists()
    page = client.get(f"/my/cases/{case.reference}/")
    assert "You withdrew this enquiry" in page.text
    assert "Withdraw my enquiry" not in page.text


def test_a_withdrawn_case_cannot_be_withdrawn_again(client):
    case, membership = patient_case(status=Status.WITHDRAWN)
    client.force_login(membership.user)
    response = client.post(f"/my/cases/{case.reference}/withdraw/")
    assert response.status_code == 200
    assert "cannot move to withdrawn" in response.text


def test_a_family_contributor_cannot_withdraw(client):
    case, _ = patient_case()
    contributor = MembershipFactory(case=case, role=Membership.Role.CONTRIBUTOR)
    client.force_login(contributor.user)
    assert client.get(f"/my/cases/{case.reference}/").status_code == 200
    assert client.post(f"/my/cases/{case.reference}/withdraw/").status_code == 404
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
