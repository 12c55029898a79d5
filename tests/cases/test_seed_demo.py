"""seed_demo: demo data for a developer's machine, never for production (issue 10, item 4)."""

from __future__ import annotations

import re
from base64 import b32encode
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

# The key that used to be committed in seed_demo; it must never be a live device's key.
OLD_COMMITTED_KEY = "3132333435363738393031323334353637383930"


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never runs in production"):
        _seed()
    assert not get_user_model().objects.filter(username__in=["coordinator", "manager"]).exists()


def test_demo_totp_secrets_are_new_each_run_and_printed():
    first = _seed()
    keys = dict(TOTPDevice.objects.values_list("user__username", "key"))
    assert set(keys) == {"coordinator", "coordinator2", "translator", "manager"}
    assert len(set(keys.values())) == 4  # one secret per account
    assert OLD_COMMITTED_KEY not in keys.values()
    for username, key in keys.items():
        printed = b32encode(bytes.fromhex(key)).decode()
        assert re.search(rf"{username}\W.*{printed}", first), username
    _seed()
    again = dict(TOTPDevice.objects.values_list("user__username", "key"))
    assert all(again[name] != keys[name] for name in keys)
    assert TOTPDevice.objects.count() == 4  # replaced, not piled up


def test_no_totp_secret_is_committed():
    source = Path(django_settings.BASE_DIR, "cases/management/commands/seed_demo.py")
    assert OLD_COMMITTED_KEY not in source.read_text()


def test_seed_demo_makes_a_second_coordinator_for_the_two_person_release():
    out = _seed()

    second = get_user_model().objects.get(username="coordinator2")
    assert second.is_staff and second.groups.filter(name="coordinator").exists()
    first = get_user_model().objects.get(username="coordinator")
    assert first.get_full_name() == "Demo Coordinator"
    assert second.get_full_name() == "Demo Coordinator 2"  # told apart in the queue filter
    assert second.check_password("demo-coordinator-2026")
    assert "'coordinator2'" in out.splitlines()[1]  # the sign-in line names it
    assert "coordinator2 approves" in out or "'coordinator2' approves" in out


def test_an_account_added_to_an_existing_demo_is_told_its_password():
    _seed()
    get_user_model().objects.filter(username="coordinator2").delete()

    out = _seed()

    assert "password 'demo-coordinator-2026' for the new 'coordinator2'" in out
    assert (
        get_user_model()
        .objects.get(username="coordinator2")
        .check_password("demo-coordinator-2026")
    )
