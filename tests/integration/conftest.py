"""A real Celery worker process on a real Redis broker, sharing the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from kombu import Connection

from medchina.celery import QUEUES
from tests.services import require_postgresql, require_redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_url():
    url = require_redis()
    with Connection(url) as conn:
        conn.ensure_connection(max_retries=1)
        # Start from empty queues so a task left by an earlier run cannot confuse this one.
        for queue in QUEUES:
            conn.default_channel.queue_purge(queue) if _exists(conn, queue) else None
    return url


def _exists(conn, queue: str) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
    except Exception:
        return False
    return True


@pytest.fixture
def worker_environment() -> dict[str, str]:
    """Extra environment for the worker process; a test overrides it to change storage."""
    return {}


def wait_for(predicate, seconds: float = 90.0) -> bool:
    """Poll ``predicate`` until it is true (True) or ``seconds`` pass (False): waiting for a
    state another process reaches, never sleeping a fixed time as synchronisation."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def worker_env(
    broker_url: str, tmp_path: Path, private_storage: Path, worker_environment: dict[str, str]
) -> dict[str, str]:
    """The environment of a worker sharing this test's database, broker and storage."""
    database = django_settings.DATABASES["default"]
    database_url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}"
        f":{database['PORT'] or 5432}/{database['NAME']}"
    )
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_URL": f"filemail://{mail_dir}",
        "MEDCHINA_PRIVATE_STORAGE_ROOT": str(private_storage),
        "MEDCHINA_VAR_DIR": str(tmp_path / "var"),
        **worker_environment,
    }


def start_worker(
    env: dict[str, str], log_path: Path, queues: tuple[str, ...] = QUEUES
) -> subprocess.Popen:
    """Start ``celery worker`` (one solo process, every queue unless told) and wait until
    it is ready."""
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "medchina", "worker",
            "--queues", ",".join(queues), "--concurrency", "1", "--pool", "solo",
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()  # the child has its own copy
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the Celery worker did not start:\n" + log_path.read_text())
        time.sleep(0.2)  # polling the log for "ready.", not synchronising on time
    return process


@pytest.fixture
def celery_worker_process(
    transactional_db, broker_url, tmp_path, private_storage, worker_environment
):
    """Start ``celery worker`` as a separate process and stop it after the test."""
    require_postgresql()
    from tests.conftest import seed_reference_data

    seed_reference_data()
    env = worker_env(broker_url, tmp_path, private_storage, worker_environment)
    process = start_worker(env, tmp_path / "worker.log")
    process.mail_dir = tmp_path / "mail"
    process.log_path = tmp_path / "worker.log"
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def eager_celery():
    """Overrides the suite-wide fixture: here tasks go through the broker to the worker."""
    from medchina.celery import app

    app.conf.task_always_eager = False
    yield
