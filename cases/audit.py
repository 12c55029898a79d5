"""The audit trail's one writer. Every access to health data and every change calls it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cases.models import AuditEvent, Case

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    # medchina.proxy.TrustedProxyMiddleware has already replaced the proxy's address
    # with the client's, taken from X-Forwarded-For only when our own proxy sent it.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_log(
    *,
    action: str,
    actor: User | AnonymousUser | None = None,
    case: Case | None = None,
    target: str = "",
    request: HttpRequest | None = None,
    ip_address: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one audit event. ``detail`` holds ids and names, never health data.

    ``ip_address`` is for work done in a task on a request's behalf (no request there).
    """
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        case=case,
        target=target,
        ip_address=client_ip(request) or ip_address,
        detail=detail,
    )
