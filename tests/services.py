"""Reaching the real services the suite needs.

In CI (``CI`` set) a service that cannot be reached is a failure; on a developer's
machine the test is skipped with a message saying what to start.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("CHROMIUM_PATH", shutil.which("chromium") or "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}


def unavailable(what: str, why: str) -> None:
    message = f"{what} is not available: {why}"
    if in_ci():
        pytest.fail(message + " (CI must provide it)")
    pytest.skip(message)


def require_redis() -> str:
    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2):
            pass
    except OSError as error:
        unavailable("Redis", f"{REDIS_URL}: {error}")
    return REDIS_URL


def require_postgresql() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", "DATABASE_URL does not point at PostgreSQL")


def require_chromium() -> str:
    if not os.path.exists(CHROMIUM):
        unavailable("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Tasks really go to this broker (not run in-process) for the duration."""
    from medchina.celery import app

    original = app.conf.broker_url
    app.conf.update(task_always_eager=False, broker_url=url)
    # The producer pool keeps its first connection; start fresh on the new broker.
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.update(task_always_eager=True, broker_url=original)
        app._pool = None
        app.amqp._producer_pool = None
