"""Limits on what one person can make us send: counted when sent, checked before."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage


def _usage(request: HttpRequest, *, group: str, key: str, rate: str, increment: bool):
    return get_usage(
        request, group=group, key=lambda _group, _request: key, rate=rate, increment=increment
    )


def limit_reached(request: HttpRequest, *, group: str, key: str, rate: str) -> bool:
    """Whether another one would go over ``rate``. Reading does not count as one."""
    if not settings.RATELIMIT_ENABLE:
        return False
    usage = _usage(request, group=group, key=key, rate=rate, increment=False)
    # No usage means the cache could not answer: refuse rather than send unlimited mail.
    return usage is None or usage["count"] >= usage["limit"]


def limit_count(request: HttpRequest, *, group: str, key: str, rate: str) -> None:
    """Count one more (an invitation actually sent, not a form with a typo)."""
    if settings.RATELIMIT_ENABLE:
        _usage(request, group=group, key=key, rate=rate, increment=True)
