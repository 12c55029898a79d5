"""Queues by urgency (issue 10 item 3, issue 14 item 1).

Issue 10 measured a sign-in e-mail taking 47.7 s instead of 1.2 s while two 120-page TIFFs
were checked: e-mail, checks and case files shared one pool of two processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from medchina.celery import HEAVY_QUEUES, MAIL_QUEUE, QUEUES
from medchina.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def _queue_of(task_name: str) -> str:
    route = celery_app.amqp.router.route({}, task_name)
    return route["queue"].name


def test_sign_in_and_notifications_go_to_the_mail_queue_not_behind_heavy_work():
    assert _queue_of("cases.tasks.sign_in_link_request") == MAIL_QUEUE
    assert _queue_of("cases.tasks.notification_send") == MAIL_QUEUE
    assert _queue_of("intake.tasks.purge_stale_drafts") == MAIL_QUEUE


def test_heavy_work_goes_to_its_own_queues():
    assert _queue_of("cases.tasks.record_check") == "checks"
    assert _queue_of("cases.tasks.generate_case_file") == "render"
    assert _queue_of("cases.tasks.redact_record") == "redact"


def test_every_registered_task_lands_on_a_queue_a_worker_consumes():
    celery_app.loader.import_default_modules()
    ours = [name for name in celery_app.tasks if name.startswith(("cases.", "intake."))]
    assert ours
    for name in ours:
        assert _queue_of(name) in QUEUES, name


def test_heavy_workers_run_at_a_lower_cpu_priority():
    """The pool-process hook lowers priority only where MEDCHINA_WORKER_NICE says so."""
    code = (
        "import os, django; django.setup(); "
        "from medchina.celery import lower_priority; "
        "before = os.nice(0); lower_priority(); print(os.nice(0) - before)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "medchina.settings"}
    niced = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "MEDCHINA_WORKER_NICE": "10"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert niced.stdout.strip().splitlines()[-1] == "10"
    plain = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert plain.stdout.strip().splitlines()[-1] == "0"


def _queues_flag(command: list[str]) -> set[str]:
    return set(command[command.index("--queues") + 1].split(","))


def test_compose_runs_a_separate_mail_worker_and_a_niced_heavy_worker():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert _queues_flag(services["mail-worker"]["command"]) == {MAIL_QUEUE}
    heavy = services["worker"]
    assert _queues_flag(heavy["command"]) == set(HEAVY_QUEUES)
    assert int(heavy["environment"]["MEDCHINA_WORKER_NICE"]) > 0
    # One heavy process on the two-core reference host: a core stays free for the web.
    assert heavy["command"][heavy["command"].index("--concurrency") + 1] == "1"
    assert "MEDCHINA_WORKER_NICE" not in services["mail-worker"].get("environment", {})


def test_run_dev_starts_the_mail_worker_apart_from_the_heavy_one():
    script = (ROOT / "bin" / "run-dev").read_text()
    assert "--queues mail " in script
    assert (
        "MEDCHINA_WORKER_NICE=10 .venv/bin/celery -A medchina worker --queues checks,redact,render"
        in script
    )
