"""One patient's upload held up everyone's sign-in e-mails (issue 10, item 3).

Issue 10: two 120-page TIFFs kept both worker processes busy for 54 s and a sign-in e-mail
took 47.7 s — checks, case files and e-mail shared one pool. Production now runs a worker
for the ``mail`` queue apart from the heavy one (Compose, bin/run-dev). Here the heavy
worker is held in the middle of a record check for as long as the test likes, and a
sign-in link asked for on the real page still arrives. bench/mail_latency.py measures it.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.core.files.base import ContentFile

from cases.models import Record
from cases.records.services import record_add
from cases.tasks import record_check
from medchina.celery import HEAVY_QUEUES, MAIL_QUEUE
from tests.factories import patient_case
from tests.integration.conftest import start_worker, wait_for, worker_env
from tests.records_support import pdf_bytes
from tests.services import broker, require_postgresql

pytestmark = pytest.mark.integration


def test_a_sign_in_email_is_sent_while_the_heavy_worker_is_busy_with_an_upload(
    transactional_db, client, broker_url, tmp_path, private_storage, worker_environment
):
    require_postgresql()
    from tests.conftest import seed_reference_data

    seed_reference_data()
    case, membership = patient_case()
    content = pdf_bytes(marker="slow upload")
    record = record_add(
        case=case,
        file=ContentFile(content, name="scan.pdf"),
        category="lab",
        run_checks=False,
    ).record
    # The upload's stored file becomes a pipe: the check that reads it waits until the test
    # writes the file into it, however long a real 120-page TIFF would have taken.
    stored = private_storage / record.original.name
    stored.unlink()
    os.mkfifo(stored)

    env = worker_env(broker_url, tmp_path, private_storage, worker_environment)
    heavy = start_worker(env, tmp_path / "heavy.log", queues=HEAVY_QUEUES)
    mail = start_worker(env, tmp_path / "mail.log", queues=(MAIL_QUEUE,))
    mail_dir = tmp_path / "mail"
    try:
        with broker(broker_url):
            record_check.delay(record.pk)

            def checking() -> bool:
                record.refresh_from_db()
                return record.state == Record.State.CHECKING

            assert wait_for(checking), (tmp_path / "heavy.log").read_text()[-3000:]
            response = client.post("/sign-in/", {"email": membership.user.email})
        assert response.status_code == 302

        def mail_arrived() -> bool:
            return any(mail_dir.iterdir())

        assert wait_for(mail_arrived), (tmp_path / "mail.log").read_text()[-3000:]
        record.refresh_from_db()
        assert record.state == Record.State.CHECKING  # the heavy work is still under way
        (message,) = mail_dir.iterdir()
        assert membership.user.email in message.read_text()

        # Let the check finish: the file goes into the pipe the heavy worker is reading.
        assert _feed(stored, content), (tmp_path / "heavy.log").read_text()[-3000:]

        def ready() -> bool:
            record.refresh_from_db()
            return record.state == Record.State.READY

        assert wait_for(ready), (tmp_path / "heavy.log").read_text()[-3000:]
    finally:
        for worker in (heavy, mail):
            worker.terminate()
        for worker in (heavy, mail):
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()


def _feed(fifo, content: bytes) -> bool:
    """Write ``content`` into the pipe once its reader has opened it (never blocking)."""
    assert len(content) < 64 * 1024  # fits the pipe's buffer: one write, no waiting

    def opened() -> int | None:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody reads it yet
            return None

    descriptor = None

    def reader_there() -> bool:
        nonlocal descriptor
        descriptor = opened()
        return descriptor is not None

    if not wait_for(reader_there):
        return False
    assert descriptor is not None
    try:
        os.write(descriptor, content)
    finally:
        os.close(descriptor)
    return True
