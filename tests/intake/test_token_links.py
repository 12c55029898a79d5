"""Sign-in and invitation tokens never travel in a URL a server logs (issue 10, item 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from cases.models import Membership
from tests.factories import UserFactory, patient_case

pytestmark = pytest.mark.django_db


def _fragment_link(mail, path: str) -> tuple[str, str]:
    """(the path a browser requests, the token after '#') from an e-mail's link."""
    match = re.search(rf"http://[^/\s]+({path})#(\S+)", mail.body)
    assert match, mail.body
    return match.group(1), match.group(2)


def _sign_in_mail(client, email, run_on_commit, mailoutbox):
    with run_on_commit():
        client.post("/sign-in/", {"email": email})
    return mailoutbox[-1]


def test_a_sign_in_link_keeps_its_token_out_of_the_url_a_server_sees(
    client, mailoutbox, run_on_commit
):
    _, membership = patient_case()
    mail = _sign_in_mail(client, membership.user.email, run_on_commit, mailoutbox)
    path, token = _fragment_link(mail, "/sign-in/link/")
    assert "?token=" not in mail.body and "token=" not in path
    # Without JavaScript the e-mail's code works in the page's form.
    assert f"enter this one:\n{token}" in mail.body


def test_a_sign_in_token_in_the_query_string_is_ignored(client, mailoutbox, run_on_commit):
    _, membership = patient_case()
    mail = _sign_in_mail(client, membership.user.email, run_on_commit, mailoutbox)
    _path, token = _fragment_link(mail, "/sign-in/link/")
    page = client.get(f"/sign-in/link/?token={token}")
    assert token not in page.text  # a URL that reached a log does not sign anyone in
    assert "_auth_user_id" not in client.session


def test_the_link_page_reads_the_token_with_a_static_script_and_no_inline_script(client):
    page = client.get("/sign-in/link/")
    assert page.status_code == 200
    assert '<script src="/static/js/token-link.js" defer></script>' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert (
        "unsafe-inline" not in page["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert 'name="token"' in page.text and "data-token-from-fragment" in page.text
    script = Path(django_settings.BASE_DIR, "static/js/token-link.js").read_text()
    assert "location.hash" in script and "replaceState" in script


def test_the_sign_in_confirmation_names_the_account(client, mailoutbox, run_on_commit):
    _, membership = patient_case(contact_email="margaret@example.org")
    mail = _sign_in_mail(client, "margaret@example.org", run_on_commit, mailoutbox)
    _path, token = _fragment_link(mail, "/sign-in/link/")
    checked = client.post("/sign-in/link/", {"step": "check", "token": token, "next": "/my/"})
    assert checked.status_code == 200
    assert "Continue as m•••@example.org" in checked.text
    assert "margaret@example.org" not in checked.text
    # Checking (what a link scanner's script would do) spends nothing.
    assert "_auth_user_id" not in client.session
    signed_in = client.post("/sign-in/link/", {"step": "continue", "token": token, "next": "/my/"})
    assert signed_in["Location"] == "/my/"
    assert client.session["_auth_user_id"] == str(membership.user.pk)
    client.logout()
    again = client.post("/sign-in/link/", {"step": "check", "token": token})
    assert again.status_code == 400


def test_a_patient_pressing_continue_on_someone_elses_link_is_told_whose_account_it_is(
    client, mailoutbox, run_on_commit
):
    _, patient = patient_case(contact_email="patricia@example.org")
    _, other = patient_case(contact_email="frank@example.org")
    mail = _sign_in_mail(client, "frank@example.org", run_on_commit, mailoutbox)
    _path, token = _fragment_link(mail, "/sign-in/link/")
    client.force_login(patient.user)
    checked = client.post("/sign-in/link/", {"step": "check", "token": token})
    assert "This link is for someone else's account" in checked.text
    assert "You are signed in as p•••@example.org" in checked.text
    assert "f•••@example.org" in checked.text
    assert client.session["_auth_user_id"] == str(patient.user.pk)  # still themselves
    assert other.user.email not in checked.text


def test_an_invitation_link_keeps_its_token_out_of_the_url_a_server_sees(
    client, mailoutbox, run_on_commit
):
    case, membership = patient_case()
    client.force_login(membership.user)
    with run_on_commit():
        client.post(f"/my/cases/{case.reference}/family/", {"email": "jo.helper@example.org"})
    path, token = _fragment_link(mailoutbox[-1], "/invitations/[0-9a-f-]+/")
    assert "token=" not in mailoutbox[-1].body
    client.logout()

    page = client.get(path)
    assert token not in page.text and "data-token-from-fragment" in page.text
    # A URL from an access log (path and any query) accepts nothing.
    client.get(f"{path}?token={token}")
    assert not Membership.objects.filter(case=case, user__email="jo.helper@example.org").exists()

    checked = client.post(path, {"step": "check", "token": token})
    assert "j•••@example.org" in checked.text
    assert not Membership.objects.filter(case=case, user__email="jo.helper@example.org").exists()
    accepted = client.post(path, {"step": "accept", "token": token})
    assert accepted["Location"] == f"/my/cases/{case.reference}/records/"
    assert Membership.objects.filter(case=case, user__email="jo.helper@example.org").exists()


def test_someone_signed_in_is_told_an_invitation_is_for_another_address(
    client, mailoutbox, run_on_commit
):
    case, membership = patient_case()
    client.force_login(membership.user)
    with run_on_commit():
        client.post(f"/my/cases/{case.reference}/family/", {"email": "jo.helper@example.org"})
    path, token = _fragment_link(mailoutbox[-1], "/invitations/[0-9a-f-]+/")
    bystander = UserFactory(email="bea@example.org")
    client.force_login(bystander)
    for step in ("check", "accept"):
        response = client.post(path, {"step": step, "token": token})
        assert "This invitation is for someone else" in response.text
    assert client.session["_auth_user_id"] == str(bystander.pk)
    assert not Membership.objects.filter(case=case, user__email="jo.helper@example.org").exists()
