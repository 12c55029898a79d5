import re

import pytest

from cases.models import AuditEvent
from tests.factories import UserFactory, patient_case
from tests.services import broker

pytestmark = pytest.mark.django_db


def _link_from(mail) -> str:
    return re.search(r"http://\S+/sign-in/link/\S+", mail.body).group(0)


def _path(link: str) -> str:
    return link.split("127.0.0.1:8000", 1)[1]


def test_a_member_gets_a_single_use_link_that_signs_them_in(client, mailoutbox, run_on_commit):
    case, membership = patient_case()
    with run_on_commit():
        response = client.post("/sign-in/", {"email": membership.user.email.upper()})
    assert response["Location"] == "/sign-in/sent/"
    (mail,) = mailoutbox
    link = _path(_link_from(mail))

    path, token = link.split("#", 1)
    # Opening the link, and checking it (as a mail scanner would), does not use it up.
    landing = client.get(path)
    assert 'name="token"' in landing.text
    checked = client.post(path, {"step": "check", "token": token, "next": "/my/"})
    assert "Continue as" in checked.text

    signed_in = client.post(
        "/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"}, follow=True
    )
    assert signed_in.redirect_chain[-1][0] == "/my/"
    assert case.reference in signed_in.text
    assert AuditEvent.objects.filter(action="sign_in.signed_in", actor=membership.user).exists()

    client.logout()
    reused = client.post("/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"})
    assert reused.status_code == 400
    assert "expired or was already used" in reused.text
    assert 'name="email"' in reused.text  # a new link is one step away


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, mailoutbox, run_on_commit):
    UserFactory(email="staff-not-member@example.org")
    with run_on_commit():
        unknown = client.post("/sign-in/", {"email": "nobody@example.org"})
        not_member = client.post("/sign-in/", {"email": "staff-not-member@example.org"})
    assert unknown["Location"] == not_member["Location"] == "/sign-in/sent/"
    assert mailoutbox == []


def test_an_expired_link_is_refused_kindly(client, mailoutbox, run_on_commit, settings):
    _, membership = patient_case()
    with run_on_commit():
        client.post("/sign-in/", {"email": membership.user.email})
    token = re.search(r"/sign-in/link/#(\S+)", mailoutbox[0].body).group(1)
    settings.SESAME_MAX_AGE = -1  # every token is now older than allowed

    response = client.post("/sign-in/link/", {"token": token, "next": "/my/"})
    assert response.status_code == 400
    assert "expired or was already used" in response.text
    assert "_auth_user_id" not in client.session


def test_a_forged_token_is_refused(client):
    response = client.post("/sign-in/link/", {"token": "forged", "next": "/my/"})
    assert response.status_code == 400


def test_the_next_address_cannot_leave_the_site(client, mailoutbox, run_on_commit):
    _, membership = patient_case()
    with run_on_commit():
        client.post("/sign-in/", {"email": membership.user.email})
    token = re.search(r"/sign-in/link/#(\S+)", mailoutbox[0].body).group(1)
    response = client.post(
        "/sign-in/link/", {"step": "continue", "token": token, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/my/"


def test_sign_in_requests_are_rate_limited(client, settings, mailoutbox, run_on_commit):
    settings.MEDCHINA_RATELIMIT_SIGN_IN = "3/h"
    _, membership = patient_case()
    with run_on_commit():
        for _ in range(3):
            assert client.post("/sign-in/", {"email": membership.user.email}).status_code == 302
        limited = client.post("/sign-in/", {"email": membership.user.email})
    assert limited.status_code == 429
    assert len(mailoutbox) == 3


def test_sign_in_is_rate_limited_per_email_across_addresses(client, settings, run_on_commit):
    settings.MEDCHINA_RATELIMIT_SIGN_IN = "2/h"
    _, membership = patient_case()
    for n in range(2):
        client.post("/sign-in/", {"email": membership.user.email}, REMOTE_ADDR=f"10.0.0.{n}")
    limited = client.post("/sign-in/", {"email": membership.user.email}, REMOTE_ADDR="10.0.0.9")
    assert limited.status_code == 429


def test_a_bad_address_gets_a_clear_error(client):
    response = client.post("/sign-in/", {"email": "not an email"})
    assert response.status_code == 200
    assert "Enter an e-mail address in the right format" in response.text


def test_the_honeypot_sends_nothing(client, mailoutbox, run_on_commit):
    _, membership = patient_case()
    with run_on_commit():
        response = client.post("/sign-in/", {"email": membership.user.email, "website": "spam"})
    assert response["Location"] == "/sign-in/sent/"
    assert mailoutbox == []


def test_changing_the_case_of_an_address_does_not_escape_the_limit(client, settings):
    settings.MEDCHINA_RATELIMIT_SIGN_IN = "2/h"
    _, membership = patient_case()
    email = membership.user.email
    for n, typed in enumerate([email, email.upper()]):
        client.post("/sign-in/", {"email": typed}, REMOTE_ADDR=f"10.0.1.{n}")
    limited = client.post("/sign-in/", {"email": email.title()}, REMOTE_ADDR="10.0.1.9")
    assert limited.status_code == 429


def test_sign_in_does_the_same_work_for_known_and_unknown_addresses(client, settings):
    """Issue 10: timings differed (18.1 vs 15.0 ms) because the page looked the address
    up. Now the page only enqueues; the lookup and the e-mail happen in the task."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, membership = patient_case()
    captured = []
    with broker("memory://"):
        for email in (membership.user.email, "nobody@example.org"):
            with CaptureQueriesContext(connection) as queries:
                response = client.post("/sign-in/", {"email": email})
            assert response["Location"] == "/sign-in/sent/"
            captured.append([q["sql"] for q in queries.captured_queries])
    known, unknown = captured
    assert len(known) == len(unknown)
    assert not any("auth_user" in sql or "cases_membership" in sql for sql in known + unknown)


def test_a_broker_outage_says_try_again_for_every_address(client):
    with broker("redis://127.0.0.1:1/0"):
        response = client.post("/sign-in/", {"email": "nobody@example.org"})
    assert response.status_code == 503
    assert "try again in a few minutes" in response.text


def test_reopening_a_spent_link_while_signed_in_goes_on_to_the_case(
    client, mailoutbox, run_on_commit
):
    """QA finding: a patient who opened the e-mail's link a second time, already signed in
    by it, was told the link "has expired or was already used" (400)."""
    case, membership = patient_case()
    with run_on_commit():
        client.post("/sign-in/", {"email": membership.user.email})
    token = re.search(r"/sign-in/link/#(\S+)", mailoutbox[0].body).group(1)
    client.post("/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"})

    again = client.post(
        "/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"}, follow=True
    )
    assert again.redirect_chain[-1][0] == "/my/"
    assert case.reference in again.text

    # Signed out, the same spent link is still refused.
    client.logout()
    assert (
        client.post(
            "/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"}
        ).status_code
        == 400
    )


def test_a_spent_link_does_not_pass_a_signed_in_staff_member_through(
    client, mailoutbox, run_on_commit
):
    _, membership = patient_case()
    with run_on_commit():
        client.post("/sign-in/", {"email": membership.user.email})
    token = re.search(r"/sign-in/link/#(\S+)", mailoutbox[0].body).group(1)
    client.post("/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"})
    client.logout()
    client.force_login(UserFactory(is_staff=True))
    assert (
        client.post(
            "/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"}
        ).status_code
        == 400
    )
