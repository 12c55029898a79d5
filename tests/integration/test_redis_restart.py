"""Redis restarted without its data while work was queued (issue 10, item 6).

Issue 10 restarted Redis without its append-only file: five queued record checks and a
queued case file were lost, the records stayed ``received`` with 0 attempts for good, and
nothing re-enqueued them. Here a private ``redis-server`` (its own port, no persistence)
holds the queued work, is killed and started again empty, and the reconciler — what beat
runs every 30 s — brings every row to its end through a real worker.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.core.files.base import ContentFile
from django.utils import timezone
from kombu import Connection

from cases.models import Notification, Record
from cases.reconcile import STUCK_WAITING, reconcile
from cases.records.services import record_add
from cases.tasks import notification_send, record_check
from medchina.celery import QUEUES
from tests.factories import patient_case
from tests.integration.conftest import wait_for
from tests.records_support import pdf_bytes
from tests.services import broker, unavailable

pytestmark = pytest.mark.integration


class PrivateRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)  # polling for the port, not synchronising on time

    def restart_empty(self) -> None:
        """As a crash without the append-only file: everything queued is gone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        for leftover in self.folder.iterdir():
            leftover.unlink()
        self.start()

    def queued(self) -> int:
        client = redis.Redis(port=self.port)
        return sum(client.llen(queue) for queue in QUEUES)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    if not shutil.which("redis-server"):
        unavailable("redis-server", "the Debian package redis-server is not installed")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker_url(private_redis):
    """The worker fixture (tests/integration/conftest.py) uses the private Redis."""
    return private_redis.url


def test_work_queued_when_redis_restarts_without_its_data_still_finishes(
    request, transactional_db, private_redis
):
    from tests.conftest import seed_reference_data

    seed_reference_data()
    case, membership = patient_case()
    records = [
        record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker=f"lost-{n}"), name=f"letter-{n}.pdf"),
            category="lab",
            run_checks=False,
        ).record
        for n in range(5)
    ]
    notification = Notification.objects.create(
        case=case, kind=Notification.Kind.STATUS_CHANGED, to_email=membership.user.email
    )
    with Connection(private_redis.url) as connection:
        for record in records:
            record_check.apply_async(args=[record.pk], connection=connection)
        notification_send.apply_async(args=[notification.pk], connection=connection)
    assert private_redis.queued() == 6

    private_redis.restart_empty()
    assert private_redis.queued() == 0

    worker = request.getfixturevalue("celery_worker_process")
    # Beat's next run, once the rows have waited longer than a busy queue explains.
    with broker(private_redis.url):
        counts = reconcile(now=timezone.now() + STUCK_WAITING + timedelta(seconds=5))
    assert counts["requeued"] == 6

    def all_done() -> bool:
        states = set(Record.objects.filter(case=case).values_list("state", flat=True))
        notification.refresh_from_db()
        return states == {Record.State.READY} and notification.state == Notification.State.SENT

    assert wait_for(all_done), worker.log_path.read_text()[-3000:]
