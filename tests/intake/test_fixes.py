"""Issue 13's fixes: answers as a list, restart, others' invitations, lockout, limits,
what helpers see, and references however they are typed."""

import re

import pytest

from cases.models import AuditEvent, Case, Invitation, Membership
from intake.models import EnquiryDraft
from tests.factories import MembershipFactory, UserFactory, patient_case
from tests.intake.journey import ANSWERS, walk_wizard

pytestmark = pytest.mark.django_db


def test_check_your_answers_lists_the_questions(client):
    review = walk_wizard(client)
    assert "[&#x27;" not in review.text and "['" not in review.text
    assert "<li>Is a second resection possible?</li>" in review.text
    assert "<li>Are there trials I could join?</li>" in review.text


def test_starting_another_enquiry_goes_through_the_safety_check(client, run_on_commit):
    walk_wizard(client)
    with run_on_commit():
        client.post("/start/send/")
    restarted = client.post("/start/new/")
    assert restarted["Location"] == "/start/"
    # Without answering the safety question again, the wizard stays closed.
    assert client.get("/start/who/")["Location"] == "/start/"
    client.post("/start/", {"urgent": "no"})
    assert client.get("/start/who/").status_code == 200
    assert Case.objects.count() == 1


def test_a_diagnosis_over_the_limit_is_refused_clearly_and_kept_whole(client):
    client.post("/start/", {"urgent": "no"})
    long_text = "Ä" * 5640
    response = client.post("/start/medical/", {**ANSWERS["medical"], "diagnosis": long_text})
    assert response.status_code == 200
    assert "enter at most 5,000 characters" in response.text
    assert "You have entered 5,640, so please shorten it by 640" in response.text
    # Nothing is cut: the whole text is back in the box, and the browser is not told to
    # drop characters.
    assert long_text in response.text
    assert 'maxlength="5000"' not in response.text
    assert EnquiryDraft.objects.get().data.get("medical") is None


def test_no_intake_field_asks_the_browser_to_cut_text(client):
    client.post("/start/", {"urgent": "no"})
    for slug in ["who", "contact", "patient", "medical", "question"]:
        assert "maxlength" not in client.get(f"/start/{slug}/").text, slug


def test_questions_over_the_limit_are_refused_clearly(client):
    client.post("/start/", {"urgent": "no"})
    response = client.post("/start/question/", {**ANSWERS["question"], "questions": "x" * 5001})
    assert "please shorten it by 1" in response.text


# --- Invitations opened by someone signed in as another person ---------------------------


def _invitation_link(client, case, mailoutbox, run_on_commit, email="daughter@example.org"):
    with run_on_commit():
        client.post(f"/my/cases/{case.reference}/family/", {"email": email})
    match = re.search(r"http://\S+(/invitations/[0-9a-f-]+/)#(\S+)", mailoutbox[-1].body)
    return match.group(1), match.group(2)


def test_a_signed_in_patient_opening_someone_elses_invitation_changes_nothing(
    client, mailoutbox, run_on_commit
):
    case, membership = patient_case()
    client.force_login(membership.user)
    path, token = _invitation_link(client, case, mailoutbox, run_on_commit)

    shown = client.get(path)
    assert shown.status_code == 403
    assert "This invitation is for someone else" in shown.text
    pressed = client.post(path, {"token": token})
    assert pressed.status_code == 403
    # Still the patient, still on their case, and the invitation is still open.
    assert client.get("/my/").wsgi_request.user == membership.user
    assert client.get(f"/my/cases/{case.reference}/").status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is None and invitation.is_open
    assert not AuditEvent.objects.filter(action="invitation.accepted").exists()

    # The person it was sent to can still accept it.
    client.logout()
    accepted = client.post(path, {"step": "accept", "token": token})
    assert accepted.status_code == 302
    assert Membership.objects.filter(case=case, user__email="daughter@example.org").exists()


def test_the_invitee_signed_in_already_is_offered_the_invitation(client, mailoutbox, run_on_commit):
    from django.contrib.auth import get_user_model

    case, membership = patient_case()
    client.force_login(membership.user)
    path, _token = _invitation_link(client, case, mailoutbox, run_on_commit)
    client.force_login(get_user_model().objects.get(email="daughter@example.org"))
    shown = client.get(path)
    assert shown.status_code == 200 and "You have been invited to help with a case" in shown.text


# --- Patient links never reach the staff lockout ------------------------------------------


def test_stale_sign_in_and_invitation_links_never_lock_anyone_out(
    client, settings, mailoutbox, run_on_commit
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(8):
        refused = client.post("/sign-in/link/", {"token": "stale", "next": "/my/"})
        assert refused.status_code == 400
        assert "<header" in refused.text and 'lang="en-GB"' in refused.text
    case, membership = patient_case()
    client.force_login(membership.user)
    path, _token = _invitation_link(client, case, mailoutbox, run_on_commit)
    client.logout()
    for _ in range(8):
        assert client.post(path, {"token": "stale"}).status_code == 400

    # A good link from the same address still works.
    with run_on_commit():
        client.post("/sign-in/", {"email": membership.user.email})
    good = re.search(r"/sign-in/link/#(\S+)", mailoutbox[-1].body).group(1)
    signed_in = client.post("/sign-in/link/", {"step": "continue", "token": good, "next": "/my/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/my/"
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()


def test_the_staff_lockout_still_works_and_is_a_proper_page(client, settings):
    from tests.factories import StaffFactory

    settings.AXES_FAILURE_LIMIT = 2
    StaffFactory(username="coord")
    for _ in range(3):
        locked = client.post("/admin/login/", {"username": "coord", "password": "wrong"})
    assert locked.status_code == 429
    assert 'lang="en-GB"' in locked.text and "<header" in locked.text
    assert "Staff sign-in is paused" in locked.text


# --- What a helper without the grant sees ------------------------------------------------


def _helper(case, can_view_all_records=False, **fields):
    return MembershipFactory(
        case=case,
        role=Membership.Role.CONTRIBUTOR,
        can_view_all_records=can_view_all_records,
        **fields,
    )


def test_a_helper_without_the_grant_sees_only_the_minimum(client):
    case, _ = patient_case(medical_area="fertility", patient_name="Ada Lovelace")
    helper = _helper(case)
    client.force_login(helper.user)
    portal = client.get("/my/").text
    assert "Ada Lovelace" in portal
    assert "Fertility" not in portal
    detail = client.get(f"/my/cases/{case.reference}/").text
    records = client.get(f"/my/cases/{case.reference}/records/").text
    for text in (detail, records):
        assert "Records that usually matter" not in text
        assert "fertility" not in text.lower()
        assert "IVF" not in text.split("What kind of record is it?")[0]
    assert "What is my current diagnosis?" not in detail
    status = client.get(f"/my/cases/{case.reference}/records/status/").json()
    assert status["checklist"] == []
    ticked = client.post(f"/my/cases/{case.reference}/preparation/", {"ticked": ["records"]})
    assert ticked.status_code == 404


def test_a_helper_with_the_grant_sees_the_area_and_checklist(client):
    case, _ = patient_case(medical_area="fertility")
    helper = _helper(case, can_view_all_records=True)
    client.force_login(helper.user)
    assert "Fertility" in client.get("/my/").text
    assert "Records that usually matter" in client.get(f"/my/cases/{case.reference}/").text


def test_a_helper_with_several_cases_can_tell_them_apart(client):
    first, _ = patient_case(patient_name="Mary Jones")
    second, _ = patient_case(patient_name="Tom Jones")
    user = UserFactory()
    _helper(first, user=user)
    _helper(second, user=user)
    client.force_login(user)
    portal = client.get("/my/").text
    assert "Mary Jones" in portal and "Tom Jones" in portal
    assert "Patient: Tom Jones" in client.get(f"/my/cases/{second.reference}/").text


# --- References however they are typed ----------------------------------------------------


def test_a_reference_typed_in_lower_case_or_without_dashes_finds_the_case(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    bare = case.reference.replace("-", "")
    for typed in [case.reference.lower(), bare, bare.lower(), bare[2:].lower()]:
        response = client.get(f"/my/cases/{typed}/records/?x=1")
        assert response.status_code == 302, typed
        assert response["Location"] == f"/my/cases/{case.reference}/records/?x=1"
    assert client.get(f"/my/cases/{case.reference.lower()}/", follow=True).status_code == 200


def test_a_normalised_reference_still_gives_strangers_404(client):
    case, _ = patient_case()
    client.force_login(UserFactory())
    response = client.get(f"/my/cases/{case.reference.lower()}/", follow=True)
    assert response.status_code == 404
