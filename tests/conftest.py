from __future__ import annotations

import pytest
from django.core.cache import cache

from medchina.celery import app as celery_app


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Every test gets its own private storage folder; nothing touches var/."""
    location = tmp_path / "private"
    location.mkdir()
    settings.PRIVATE_STORAGE_ROOT = location
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "base_url": None},
        },
    }
    return location


@pytest.fixture(autouse=True)
def eager_celery():
    """Unit tests run tasks in-process, through the real task code.

    The integration tests in tests/integration/ use a real worker and broker instead.
    """
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what the code under test queued with transaction.on_commit (e.g. tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_login():
    """Sign a staff member in to the admin with their second factor verified."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def login(user) -> Client:
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
        client = Client()
        client.force_login(user)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        return client

    return login


def seed_reference_data() -> None:
    """Re-create what the data migrations seed (directions, staff groups).

    Transactional tests (browser, worker) flush every table when they finish; the next
    one puts the migrations' data back with the migrations' own, idempotent code.
    """
    import importlib

    from django.apps import apps

    for module, function in (
        ("0002_seed_medical_directions", "seed"),
        ("0003_staff_groups", "create_groups"),
        ("0007_view_all_cases", "grant_managers"),
        ("0011_direction_cautions_and_term_list", "seed"),
    ):
        migration = importlib.import_module(f"cases.migrations.{module}")
        getattr(migration, function)(apps, None)
