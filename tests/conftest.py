from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache

from medchina.celery import app as celery_app
from tests.storage_support import S3Server, files_under, s3_server


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Every test gets its own private storage folder and scratch space; nothing touches
    var/. Tests that run on S3 as well replace the backend (tests/storage_support.py)."""
    location = tmp_path / "private"
    location.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "incoming"
    backend = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(location), "base_url": None},
    }
    settings.STORAGES = {**settings.STORAGES, "private": backend, "default": backend}
    settings.MEDCHINA_SCRATCH_DIR = tmp_path / "scratch"
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


@pytest.fixture(scope="session")
def s3():
    """moto's S3-compatible server on loopback, shared by this run's storage tests."""
    yield from s3_server()


@dataclass
class PrivateBackend:
    """Which private storage a test runs on, and what it holds."""

    kind: str
    folder: Path
    s3: S3Server | None = None
    bucket: str = ""

    def stored(self) -> list[str]:
        if self.s3 is not None:
            return self.s3.keys(self.bucket)
        return [name for name in files_under(self.folder) if not name.startswith(".")]


@pytest.fixture(params=["filesystem", "s3"])
def private_backend(request, settings, private_storage):
    """Runs a test once on the local folder and once on an S3 bucket (moto, loopback)."""
    if request.param == "filesystem":
        return PrivateBackend("filesystem", private_storage)
    server: S3Server = request.getfixturevalue("s3")
    bucket = server.new_bucket()
    backend = server.backend(bucket)
    settings.STORAGES = {**settings.STORAGES, "private": backend, "default": backend}
    return PrivateBackend("s3", private_storage, server, bucket)
