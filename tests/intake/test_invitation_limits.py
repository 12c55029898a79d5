"""Invitations are rate-limited per case and per sender (issue 10, item 5)."""

from __future__ import annotations

import pytest

from cases.models import Invitation
from tests.factories import MembershipFactory, patient_case

pytestmark = pytest.mark.django_db


def _invite(client, case, email: str):
    return client.post(f"/my/cases/{case.reference}/family/", {"email": email})


def test_invitations_are_limited_per_case(client, settings, mailoutbox, run_on_commit):
    settings.MEDCHINA_RATELIMIT_INVITATION_CASE = "2/h"
    case, membership = patient_case()
    client.force_login(membership.user)
    with run_on_commit():
        for n in range(2):
            assert _invite(client, case, f"helper{n}@example.org").status_code == 302
        limited = _invite(client, case, "stranger@example.org")
    assert limited.status_code == 429
    assert "Please wait before inviting anyone else" in limited.text
    assert "We have not sent an invitation to stranger@example.org" in limited.text
    assert Invitation.objects.filter(case=case).count() == 2
    assert len(mailoutbox) == 2


def test_invitations_are_limited_per_sender_across_cases(client, settings, run_on_commit):
    settings.MEDCHINA_RATELIMIT_INVITATION_SENDER = "3/d"
    first, membership = patient_case()
    second = MembershipFactory(user=membership.user).case
    client.force_login(membership.user)
    with run_on_commit():
        for n in range(2):
            assert _invite(client, first, f"a{n}@example.org").status_code == 302
        assert _invite(client, second, "b0@example.org").status_code == 302
        limited = _invite(client, second, "b1@example.org")
    assert limited.status_code == 429
    assert Invitation.objects.count() == 3


def test_a_refused_invitation_form_does_not_count_towards_the_limit(client, settings):
    settings.MEDCHINA_RATELIMIT_INVITATION_CASE = "1/h"
    case, membership = patient_case()
    client.force_login(membership.user)
    for _ in range(3):
        assert _invite(client, case, "not an address").status_code == 200
    assert _invite(client, case, "helper@example.org").status_code == 302
    assert _invite(client, case, "second@example.org").status_code == 429
