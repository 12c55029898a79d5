"""``/healthz/``: can we reach the database, the broker and private storage?"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from medchina.celery import app as celery_app

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        # Opening a channel talks to the transport; ensure_connection alone can be lazy.
        conn.default_channel  # noqa: B018


def _storage() -> None:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("storage returned different content")
    finally:
        default_storage.delete(name)


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning(
                "health check failed", extra={"check": name, "error": type(exc).__name__}
            )
            results[name] = "error"
        else:
            results[name] = "ok"
    healthy = all(value == "ok" for value in results.values())
    results["status"] = "ok" if healthy else "error"
    results["environment"] = settings.DJANGO_ENV
    return JsonResponse(results, status=200 if healthy else 503)
