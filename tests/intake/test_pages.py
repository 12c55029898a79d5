"""Contact, guidance and privacy pages: who we are, the article's guidance, the transfer."""

import pytest

from cases.domain.preparation import PREPARATION_QUESTIONS
from cases.domain.workflow import Status
from cases.models import MedicalDirection
from intake import guidance
from intake.context_processors import tel_href
from tests.factories import patient_case

pytestmark = pytest.mark.django_db


def test_the_contact_page_names_us_from_settings(client, settings):
    settings.MEDCHINA_ORGANISATION_NAME = "Harbour Health Ltd"
    settings.MEDCHINA_CONTACT_EMAIL = "hello@harbour.example"
    settings.MEDCHINA_CONTACT_PHONE = "+44 (0)20 7946 0999"
    settings.MEDCHINA_CONTACT_HOURS = "Weekdays 8 to 6"
    settings.MEDCHINA_DATA_CONTROLLER = "Harbour Health Ltd"
    page = client.get("/contact/")
    assert page.status_code == 200
    for words in [
        "Harbour Health Ltd",
        'href="mailto:hello@harbour.example"',
        'href="tel:+442079460999"',
        "Weekdays 8 to 6",
        "data controller",
        "https://ico.org.uk/make-a-complaint/",
    ]:
        assert words in page.text


def test_the_demo_contact_values_are_there_out_of_the_box(client):
    page = client.get("/contact/")
    assert "020 7946 0123" in page.text and 'href="tel:02079460123"' in page.text
    assert "help@intake.example.org" in page.text


@pytest.mark.parametrize(
    ("typed", "href"),
    [("020 7946 0123", "tel:02079460123"), ("+44 20 7946 0123", "tel:+442079460123"), ("", "")],
)
def test_phone_numbers_become_tap_to_call_addresses(typed, href):
    assert tel_href(typed) == href


def test_every_page_links_to_guidance_contact_and_tap_to_call_help(client):
    page = client.get("/sign-in/")
    for words in [
        'href="/guidance/"',
        'href="/contact/"',
        'href="tel:999"',
        'href="tel:111"',
        'href="https://111.nhs.uk/"',
    ]:
        assert words in page.text


def test_the_landing_page_links_to_guidance_and_contact(client):
    page = client.get("/")
    assert "Read our guidance" in page.text
    assert page.text.count('href="/contact/"') >= 2  # the aside and the footer


def test_the_rate_limit_page_links_to_contact(client, settings):
    settings.MEDCHINA_RATELIMIT_SIGN_IN = "1/h"
    client.post("/sign-in/", {"email": "a@example.org"})
    limited = client.post("/sign-in/", {"email": "a@example.org"})
    assert limited.status_code == 429
    assert 'href="/contact/">contact us</a>' in limited.text


def test_emails_say_how_to_contact_us(client, mailoutbox, run_on_commit):
    _case, membership = patient_case()
    with run_on_commit():
        client.post("/sign-in/", {"email": membership.user.email})
    (mail,) = mailoutbox
    assert "help@intake.example.org" in mail.body
    assert "http://127.0.0.1:8000/contact/" in mail.body


def test_the_privacy_notice_states_the_transfer_to_china_retention_and_rights(client, settings):
    settings.MEDCHINA_DATA_CONTROLLER = "Harbour Health Ltd"
    text = client.get("/privacy/").text
    for words in [
        "Harbour Health Ltd",
        "Sending a case file to China",
        "International Data Transfer Agreement",
        "pseudonymised",
        "never sent",
        "deleted after 30 days",
        "2 years after it closes",
        "available for 7 days",
        "Portability",
        "Erasure",
        "Information Commissioner",
    ]:
        assert words in text, words


def test_the_guidance_covers_the_whole_article(client):
    text = client.get("/guidance/").text
    assert len(PREPARATION_QUESTIONS) == 8
    for _key, question in PREPARATION_QUESTIONS:
        assert question in text
    for area in guidance.AREAS:
        assert area.title in text
    for scan in ["CT", "MRI", "PET-CT", "ultrasound", "X-ray"]:
        assert scan in text
    assert text.count('<li class="mb-2">') == 6  # the six steps
    for title, _ in guidance.NEXT_STEPS:
        assert title in text
    assert "Documents for afterwards" in text  # post-return documentation
    for treatment in ["CAR-T", "stem cell", "advanced medicines", "special access"]:
        assert treatment in text
    assert "Prepare your records before booking any travel" in text
    assert "guaranteed access" in text and "essential diagnostic records" in text
    assert len(guidance.FAQ) == 6
    for item in guidance.FAQ:
        assert item.question in text


def test_the_portal_checklist_has_all_eight_questions(client):
    case, membership = patient_case()
    client.force_login(membership.user)
    text = client.get(f"/my/cases/{case.reference}/").text
    for _key, question in PREPARATION_QUESTIONS:
        assert question in text


@pytest.mark.parametrize("area", ["cancer", "rare_disease"])
def test_a_case_in_a_high_risk_area_shows_the_caveats(client, area):
    case, membership = patient_case(medical_area=area)
    client.force_login(membership.user)
    text = client.get(f"/my/cases/{case.reference}/").text
    assert "About higher-risk treatments" in text and "CAR-T" in text


def test_a_case_with_a_confirmed_high_risk_direction_shows_the_caveats(client):
    from cases.models import CaseDirection

    case, membership = patient_case(medical_area="eye_care", status=Status.DRAFTING)
    client.force_login(membership.user)
    assert "About higher-risk treatments" not in client.get(f"/my/cases/{case.reference}/").text
    direction = MedicalDirection.objects.filter(high_risk=True).first() or (
        MedicalDirection.objects.create(
            area="eye_care",
            name_en="Gene therapy",
            name_zh="基因治疗",
            helps_with="x",
            high_risk=True,
        )
    )
    CaseDirection.objects.create(case=case, direction=direction, rationale="Possible")
    assert "About higher-risk treatments" in client.get(f"/my/cases/{case.reference}/").text
