"""A family member or carer makes the enquiry: third-person consents with their authority,
the patient's own link to confirm, and who may consent to sharing with China."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from cases.domain.consents import CURRENT, ON_BEHALF, ConsentKind
from cases.domain.workflow import Status
from cases.models import AuditEvent, Case, Consent, Membership, Notification
from tests.intake.journey import ANSWERS, walk_wizard

pytestmark = pytest.mark.django_db

PATIENT_EMAIL = "zoe.patient@example.org"


def _family(authority="permission", patient_email=PATIENT_EMAIL, **patient):
    return {
        **ANSWERS,
        "who": {
            "filling_in_for": "family",
            "relationship": "Son",
            "authority": authority,
            "patient_email": patient_email,
        },
        "contact": {
            **ANSWERS["contact"],
            "contact_name": "Sam Ōkafor",
            "contact_email": "sam@example.org",
        },
        "patient": {**ANSWERS["patient"], **patient},
    }


def _send(client, run_on_commit, answers):
    """Send the enquiry, then sign in as the person who sent it (as their link would)."""
    review = walk_wizard(client, answers)
    with run_on_commit():
        client.post("/start/send/")
    case = Case.objects.get()
    client.force_login(Membership.objects.get(case=case).user)
    return review, case


def _confirmation_link(mailoutbox) -> tuple[str, str]:
    mail = next(m for m in mailoutbox if m.to == [PATIENT_EMAIL])
    match = re.search(r"http://\S+(/confirm/[^/]+/)#(\S+)", mail.body)
    return match.group(1), match.group(2)


def test_the_consent_step_speaks_in_the_third_person_to_a_representative(client):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", _family()["who"])
    page = client.get("/start/consent/").text
    assert "Consent on the patient&#x27;s behalf" in page
    assert "on the patient&#x27;s behalf, to their health information" in page
    assert "I agree to my health information" not in page


def test_a_representatives_enquiry_records_their_authority_and_asks_the_patient(
    client, mailoutbox, run_on_commit
):
    review, case = _send(client, run_on_commit, _family())
    assert "What allows you to act for the patient?" in review.text
    assert case.representative_authority == "permission"
    assert case.patient_email == PATIENT_EMAIL and case.patient_confirmed_at is None
    for consent in Consent.objects.filter(case=case):
        assert consent.authority == "permission"
        assert consent.text_version == ON_BEHALF[consent.kind].version
        assert consent.text_sha256 == ON_BEHALF[consent.kind].sha256
    assert Membership.objects.get(case=case).role == Membership.Role.REPRESENTATIVE

    # The patient gets their own e-mail: a link, and no health information.
    mail = next(m for m in mailoutbox if m.to == [PATIENT_EMAIL])
    assert "confirm" in mail.subject.lower()
    for secret in ["Glioblastoma", "Temozolomide", "9434765919"]:
        assert secret not in mail.body
    assert Notification.objects.filter(kind="patient_confirmation").count() == 1
    assert AuditEvent.objects.filter(case=case, action="patient.confirmation_sent").exists()


def test_the_patient_confirms_and_then_gives_the_sharing_consent_themselves(
    client, mailoutbox, run_on_commit
):
    _review, case = _send(client, run_on_commit, _family())
    path, token = _confirmation_link(mailoutbox)

    # The representative cannot give the sharing consent on permission alone.
    refused = client.post(
        f"/my/cases/{case.reference}/sharing/", {"action": "give", "confirm": "yes"}, follow=True
    )
    assert "must come from the patient themselves" in refused.text
    assert not Consent.objects.filter(case=case, kind=ConsentKind.SHARING).exists()
    # Nor can they use the patient's link while signed in as themselves.
    other = client.post(path, {"token": token, "answer": "yes"})
    assert other.status_code == 403
    case.refresh_from_db()
    assert case.patient_confirmed_at is None

    client.logout()
    shown = client.get(path)
    assert shown.status_code == 200
    assert token not in shown.text and "data-token-from-fragment" in shown.text
    assert "Sam Ōkafor" in shown.text and "Son" in shown.text
    assert "Glioblastoma" not in shown.text
    confirmed = client.post(path, {"token": token, "answer": "yes"}, follow=True)
    assert confirmed.redirect_chain[-1][0] == f"/my/cases/{case.reference}/"
    case.refresh_from_db()
    assert case.patient_confirmed_at is not None
    patient = Membership.objects.get(case=case, user__email=PATIENT_EMAIL)
    assert patient.role == Membership.Role.PATIENT
    assert AuditEvent.objects.filter(case=case, action="patient.confirmed").count() == 1

    client.post(f"/my/cases/{case.reference}/sharing/", {"action": "give", "confirm": "yes"})
    sharing = Consent.objects.get(case=case, kind=ConsentKind.SHARING)
    assert sharing.given_by == patient.user and sharing.authority == ""
    assert sharing.text_version == CURRENT[ConsentKind.SHARING].version

    # The link is spent.
    client.logout()
    assert client.post(path, {"token": token, "answer": "yes"}).status_code == 400


@pytest.mark.parametrize(
    ("authority", "born"), [("lpa_health", "1950-05-01"), ("parental", "2016-05-01")]
)
def test_a_stated_legal_authority_lets_the_representative_consent_to_sharing(
    client, run_on_commit, authority, born
):
    _review, case = _send(
        client,
        run_on_commit,
        _family(authority=authority, patient_email="", patient_date_of_birth=born),
    )
    page = client.get(f"/my/cases/{case.reference}/").text
    assert "on the patient's behalf, to sharing" in page
    client.post(f"/my/cases/{case.reference}/sharing/", {"action": "give", "confirm": "yes"})
    sharing = Consent.objects.get(case=case, kind=ConsentKind.SHARING)
    assert sharing.authority == authority
    assert sharing.text_sha256 == ON_BEHALF[ConsentKind.SHARING].sha256
    assert not Notification.objects.filter(kind="patient_confirmation").exists()


@pytest.mark.parametrize(
    ("authority", "born", "error"),
    [
        ("parental", "1970-01-01", "Parental responsibility is for a patient under 18"),
        (
            "lpa_health",
            "2016-06-01",
            "A lasting power of attorney is for a patient aged 18 or over",
        ),
    ],
)
# The patient's age comes from today's date: a fixed day keeps the child a child.
@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)
def test_the_authority_must_fit_the_patients_age(client, authority, born, error):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", _family(authority=authority)["who"])
    response = client.post("/start/patient/", {**ANSWERS["patient"], "patient_date_of_birth": born})
    assert response.status_code == 200
    assert error in response.text


def test_the_representative_cannot_give_the_patients_address_as_their_own(client):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", _family()["who"])
    response = client.post(
        "/start/contact/", {**ANSWERS["contact"], "contact_email": PATIENT_EMAIL.upper()}
    )
    assert "This is the patient&#x27;s e-mail address" in response.text


def test_a_patient_who_did_not_agree_stops_the_case(client, mailoutbox, run_on_commit):
    _review, case = _send(client, run_on_commit, _family())
    path, token = _confirmation_link(mailoutbox)
    client.logout()
    answered = client.post(path, {"token": token, "answer": "no"})
    assert "Thank you for telling us" in answered.text
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN and case.patient_confirmed_at is None
    assert AuditEvent.objects.filter(case=case, action="patient.disowned").exists()
    assert not Membership.objects.filter(case=case, user__email=PATIENT_EMAIL).exists()


def test_a_forged_link_or_no_answer_changes_nothing(client, mailoutbox, run_on_commit):
    _review, case = _send(client, run_on_commit, _family())
    path, token = _confirmation_link(mailoutbox)
    client.logout()
    assert client.post(path, {"token": "forged", "answer": "yes"}).status_code == 400
    assert client.post(path, {"token": token}).status_code == 400
    assert client.get("/confirm/MC-0000-0000/").status_code == 404
    case.refresh_from_db()
    assert case.patient_confirmed_at is None and case.status == Status.SUBMITTED


def test_a_patients_own_review_does_not_ask_about_representatives(client):
    review = walk_wizard(client)
    assert "What allows you to act" not in review.text
    assert "The patient&#x27;s own e-mail address" not in review.text
    assert "I am the patient" in review.text
