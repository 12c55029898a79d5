"""``/healthz/`` and ``manage.py health``: can we reach the database, broker and storage?

The public answer is only ``{"status": "ok"}`` (or ``"error"`` with 503) so a load
balancer can probe it; which part failed is told to this machine or to a request with the
operator's token. Nothing is written on each call: storage is checked by listing it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
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
    # Reading the top folder proves the store is there and answering, without writing.
    storages["private"].listdir("")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
}


def run_checks() -> dict[str, str]:
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
    return results


def _may_see_detail(request: HttpRequest) -> bool:
    token = settings.MEDCHINA_HEALTH_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and constant_time_compare(given, token):
        return True
    # From this machine and not relayed by a proxy (a proxy on this machine would make
    # every visitor look local).
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    healthy = all(value == "ok" for value in results.values())
    body = {"status": "ok" if healthy else "error"}
    if _may_see_detail(request):
        body.update(results)
    return JsonResponse(body, status=200 if healthy else 503)
