import pytest
from django.contrib.sessions.models import Session

from cases.domain.consents import CURRENT, ConsentKind
from cases.domain.workflow import Status
from cases.models import AuditEvent, Case, Consent, Membership, Notification
from intake.models import EnquiryDraft
from tests.intake.journey import ANSWERS, walk_wizard

pytestmark = pytest.mark.django_db


def test_the_landing_page_explains_the_service_and_its_limits(client):
    page = client.get("/")
    assert page.status_code == 200
    for words in [
        "not a hospital",
        "not an emergency service",
        "999",
        "NHS 111",
        "Start your enquiry",
    ]:
        assert words in page.text


def test_the_emergency_answer_stores_nothing(client):
    response = client.post("/start/", {"urgent": "yes"}, follow=True)

    assert response.redirect_chain[-1][0] == "/start/urgent/"
    assert "call 999" in response.text
    assert "NHS 111" in response.text
    assert not Session.objects.exists()
    assert not EnquiryDraft.objects.exists()
    assert "sessionid" not in response.cookies


def test_the_safety_check_needs_an_answer(client):
    response = client.post("/start/", {})
    assert response.status_code == 200
    assert "Select yes or no" in response.text
    assert "There is a problem" in response.text


def test_the_wizard_cannot_be_entered_without_the_safety_check(client):
    response = client.get("/start/contact/")
    assert response.status_code == 302
    assert response["Location"] == "/start/"


def test_a_patient_sends_an_enquiry_and_gets_a_reference(client, mailoutbox, run_on_commit):
    review = walk_wizard(client)
    assert "Check your answers" in review.text
    assert "Is a second resection possible?" in review.text

    with run_on_commit():
        sent = client.post("/start/send/", follow=True)

    case = Case.objects.get()
    assert case.status == Status.SUBMITTED
    assert case.reference in sent.text
    assert case.patient_name == "Zoë Ōkafor-李"
    assert case.contact_phone == "+447911123456"
    assert case.nhs_number == "9434765919"
    assert case.questions == ["Is a second resection possible?", "Are there trials I could join?"]
    assert (case.essentials_total, case.essentials_missing) == (4, 4)  # cancer checklist
    membership = Membership.objects.get(case=case)
    assert membership.role == Membership.Role.PATIENT
    assert membership.user.email == "zoe@example.org"
    assert set(Consent.objects.values_list("kind", "text_version", "text_sha256")) == {
        (kind, CURRENT[kind].version, CURRENT[kind].sha256)
        for kind in (ConsentKind.PROCESSING, ConsentKind.BOUNDARIES)
    }
    assert AuditEvent.objects.filter(case=case, action="case.submitted").count() == 1
    assert EnquiryDraft.objects.get().data == {}

    (mail,) = mailoutbox
    assert case.reference in mail.subject and case.reference in mail.body
    assert "/sign-in/link/#" in mail.body and "?token=" not in mail.body
    for secret in ["Glioblastoma", "Temozolomide", "9434765919", "Zoë", "resection"]:
        assert secret not in mail.body and secret not in mail.subject
    assert Notification.objects.get().state == Notification.State.SENT


def test_a_family_member_sends_an_enquiry_for_the_patient(client, run_on_commit):
    answers = {
        **ANSWERS,
        "who": {"filling_in_for": "family", "relationship": "Son", "authority": "permission"},
    }
    walk_wizard(client, answers)
    with run_on_commit():
        client.post("/start/send/")
    case = Case.objects.get()
    assert case.submitted_by_family
    assert case.relationship == "Son"
    assert Membership.objects.get(case=case).role == Membership.Role.REPRESENTATIVE


def test_a_family_member_must_say_what_allows_them_to_act(client):
    client.post("/start/", {"urgent": "no"})
    response = client.post("/start/who/", {"filling_in_for": "family", "relationship": ""})
    assert "Enter your relationship to the patient" in response.text
    assert "Select what allows you to act for the patient" in response.text


def test_a_double_submit_makes_one_case(client, run_on_commit):
    walk_wizard(client)
    with run_on_commit():
        first = client.post("/start/send/")
        second = client.post("/start/send/")
    assert first["Location"] == second["Location"] == "/start/sent/"
    assert Case.objects.count() == 1


def test_answers_survive_a_validation_error_and_a_reload(client):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", ANSWERS["who"])
    bad = {**ANSWERS["contact"], "contact_phone": "12"}
    response = client.post("/start/contact/", bad)
    assert response.status_code == 200
    assert (
        "This phone number is not valid" in response.text or "Enter a phone number" in response.text
    )
    assert 'value="zoe@example.org"' in response.text  # nothing typed is lost

    client.post("/start/contact/", ANSWERS["contact"])
    reloaded = client.get("/start/contact/")
    assert 'value="zoe@example.org"' in reloaded.text
    assert 'value="+447911123456"' in reloaded.text


def test_the_error_summary_links_to_each_field(client):
    client.post("/start/", {"urgent": "no"})
    response = client.post("/start/contact/", {"contact_email": "not-an-email"})
    assert 'href="#id_contact_name"' in response.text
    assert 'href="#id_contact_email"' in response.text
    assert 'href="#id_preferred_contact_0"' in response.text
    assert "Enter an e-mail address in the right format" in response.text
    assert response.text.index("There is a problem") < response.text.index("<form")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "9434765918", "check digit"),
        ("nhs_number", "12345", "10 digits"),
        ("patient_date_of_birth", "2999-01-01", "must be in the past"),
        ("patient_date_of_birth", "1850-01-01", "more than 120 years"),
        ("patient_date_of_birth", "31/02/1970", "real date"),
        ("patient_name", "", "Enter the patient"),
        ("patient_name", "x" * 201, "at most 200"),
    ],
)
def test_the_patient_step_refuses_bad_input_clearly(client, field, value, message):
    client.post("/start/", {"urgent": "no"})
    response = client.post("/start/patient/", {**ANSWERS["patient"], field: value})
    assert response.status_code == 200
    assert message in response.text


def test_script_and_markup_are_shown_back_escaped(client):
    client.post("/start/", {"urgent": "no"})
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    for slug, data in ANSWERS.items():
        if slug == "medical":
            data = {**data, "diagnosis": hostile}
        client.post(f"/start/{slug}/", data)
    review = client.get("/start/check-your-answers/")
    assert hostile not in review.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in review.text


def test_the_questions_step_needs_at_least_one_question(client):
    client.post("/start/", {"urgent": "no"})
    response = client.post("/start/question/", {**ANSWERS["question"], "questions": " \n \n"})
    assert "Enter at least one question" in response.text


def test_a_past_decision_deadline_is_refused(client):
    client.post("/start/", {"urgent": "no"})
    response = client.post(
        "/start/question/", {**ANSWERS["question"], "decision_deadline": "2020-01-01"}
    )
    assert "must be today or in the future" in response.text


def test_the_consents_are_unticked_and_required(client):
    client.post("/start/", {"urgent": "no"})
    page = client.get("/start/consent/")
    assert "checked" not in page.text.split("<form")[1]
    response = client.post("/start/consent/", {})
    assert "You must agree to the use of health information" in response.text
    assert "Confirm that you understand" in response.text


def test_the_review_sends_people_back_to_an_unfinished_step(client):
    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", ANSWERS["who"])
    response = client.get("/start/check-your-answers/")
    assert response["Location"] == "/start/contact/"
    with pytest.raises(Case.DoesNotExist):
        client.post("/start/send/")
        Case.objects.get()


def test_a_change_link_returns_to_the_review(client):
    walk_wizard(client)
    response = client.post(
        "/start/medical/?return=review", {**ANSWERS["medical"], "diagnosis": "Updated"}
    )
    assert response["Location"] == "/start/check-your-answers/"
    assert "Updated" in client.get("/start/check-your-answers/").text


def test_a_bot_filling_the_honeypot_sends_nothing(client):
    answers = {**ANSWERS, "consent": {**ANSWERS["consent"], "website": "http://spam"}}
    client.post("/start/", {"urgent": "no"})
    for slug, data in answers.items():
        response = client.post(f"/start/{slug}/", data)
    assert response.status_code == 400
    assert "consent" not in EnquiryDraft.objects.get().data
    client.post("/start/send/")
    assert not Case.objects.exists()


def test_enquiries_are_rate_limited_per_address(client, settings, run_on_commit):
    settings.MEDCHINA_RATELIMIT_ENQUIRY = "2/h"
    for _ in range(2):
        walk_wizard(client)
        with run_on_commit():
            client.post("/start/send/")
        client.post("/start/new/")
    walk_wizard(client)
    response = client.post("/start/send/")
    assert response.status_code == 429
    assert "Please wait before trying again" in response.text
    assert Case.objects.count() == 2
    assert EnquiryDraft.objects.filter(case__isnull=True).count() == 1  # nothing lost


def test_unfinished_enquiries_are_purged_after_30_days(client):
    from datetime import timedelta

    from django.utils import timezone

    from intake.tasks import purge_stale_drafts

    client.post("/start/", {"urgent": "no"})
    client.post("/start/who/", ANSWERS["who"])
    fresh = EnquiryDraft.objects.create(data={"who": {"filling_in_for": "self"}})
    EnquiryDraft.objects.exclude(pk=fresh.pk).update(updated_at=timezone.now() - timedelta(days=31))
    assert purge_stale_drafts() == 1
    assert list(EnquiryDraft.objects.all()) == [fresh]
