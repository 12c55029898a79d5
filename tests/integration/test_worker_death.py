"""A worker host that dies mid-task (issue 10, item 6).

Issue 10 killed the workers mid-task: their unacknowledged tasks came back only when
Redis's 30-minute visibility timeout expired (measured 31 min 11 s), and meanwhile the
rows stayed ``checking``/``rendering``. Here a real worker is stopped with SIGKILL while it
holds a record's lease; the message stays unacknowledged in Redis, and the reconciler
(beat, every 30 s) hands the work to a second worker once the lease has run out.
"""

from __future__ import annotations

import json
import signal
from datetime import timedelta

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from cases.models import Case, Record
from cases.reconcile import reconcile
from cases.records.services import record_add
from cases.tasks import record_check
from medchina.celery import app as celery_app
from tests.factories import patient_case
from tests.integration.conftest import start_worker, wait_for, worker_env
from tests.records_support import pdf_bytes
from tests.services import broker, require_postgresql

pytestmark = pytest.mark.integration


def _blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _unacked_task_ids(broker_url: str) -> set[str]:
    """The tasks Redis keeps for a worker that took them and has not acknowledged them;
    it hands them out again only after the visibility timeout."""
    client = redis.Redis.from_url(broker_url)
    ids = set()
    for raw in client.hvals("unacked"):
        message = json.loads(raw)[0]
        ids.add(message["headers"]["id"])
    return ids


def test_a_check_whose_worker_host_died_finishes_without_waiting_for_the_visibility_timeout(
    request, transactional_db, broker_url, tmp_path, private_storage, worker_environment
):
    require_postgresql()
    assert celery_app.conf.task_acks_late  # so the dead worker's message is unacknowledged
    from tests.conftest import seed_reference_data

    seed_reference_data()
    case, _membership = patient_case()
    record = record_add(
        case=case,
        file=ContentFile(pdf_bytes(marker="orphaned"), name="letter.pdf"),
        category="lab",
        run_checks=False,
    ).record
    doomed = start_worker(
        worker_env(broker_url, tmp_path, private_storage, worker_environment),
        tmp_path / "doomed-worker.log",
    )
    # Hold the worker still after it has claimed the record: storing the result reads the
    # case, and nobody reads the case while we hold its table. Then we know it is mid-task.
    database = django_settings.DATABASES["default"]
    holder = psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
    )
    try:
        holder.execute(f"LOCK TABLE {Case._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with broker(broker_url):
            task_id = record_check.delay(record.pk).id

        def mid_task() -> bool:
            record.refresh_from_db()
            return record.state == Record.State.CHECKING and _blocked_on_a_lock()

        assert wait_for(mid_task), (tmp_path / "doomed-worker.log").read_text()[-3000:]
        doomed.send_signal(signal.SIGKILL)  # the host dies: no clean-up, no acknowledgement
        doomed.wait(timeout=10)
    finally:
        holder.rollback()
        holder.close()

    assert task_id in _unacked_task_ids(broker_url)  # Redis would wait VISIBILITY_TIMEOUT
    record.refresh_from_db()
    assert record.state == Record.State.CHECKING and record.attempts == 1

    # Nobody renews the lease now; a minute later it has run out. Beat's next run:
    Record.objects.filter(pk=record.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    worker = request.getfixturevalue("celery_worker_process")
    with broker(broker_url):
        assert reconcile()["requeued"] == 1

    def ready() -> bool:
        record.refresh_from_db()
        return record.state == Record.State.READY

    assert wait_for(ready), worker.log_path.read_text()[-3000:]
    assert record.attempts == 2
