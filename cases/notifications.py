"""E-mail notifications. Each carries the case reference and a link — no health data."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from sesame.utils import get_token

from cases.leases import lease_claim
from cases.models import Case, Notification
from cases.tasks import enqueue_on_commit, notification_send

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

SUBJECTS: dict[str, str] = {
    Notification.Kind.CASE_RECEIVED: "We have received your enquiry {reference}",
    Notification.Kind.SIGN_IN_LINK: "Your medChina Intake sign-in link",
    Notification.Kind.STATUS_CHANGED: "There is an update on your case {reference}",
    Notification.Kind.INVITATION: "You have been invited to help with a medChina Intake case",
    Notification.Kind.RECORDS_REQUESTED: "We need some more records for your case {reference}",
    Notification.Kind.OUTCOME_AVAILABLE: "News on your case {reference}: please sign in",
    Notification.Kind.PATIENT_CONFIRMATION: "Please confirm an enquiry made for you",
    Notification.Kind.NEW_MESSAGE: "You have a new message about case {reference}",
    Notification.Kind.EXPORT_READY: "Your data download for case {reference} is ready",
    Notification.Kind.ERASURE_REQUESTED: "Erasure requested for case {reference}",
}


def notification_queue(
    *,
    kind: str,
    to_email: str,
    case: Case | None = None,
    sign_in_user: User | None = None,
    next_path: str = "",
    token_scope: str = "",
) -> Notification:
    """Store the e-mail we owe and send it from a worker once this transaction commits."""
    notification = Notification.objects.create(
        kind=kind,
        to_email=to_email,
        case=case,
        sign_in_user=sign_in_user,
        next_path=next_path,
        token_scope=token_scope,
    )
    enqueue_on_commit(notification_send, notification.pk)
    return notification


def _link(notification: Notification) -> tuple[str, str]:
    """The e-mail's link and, when it signs someone in, the code it carries.

    The token goes after "#": browsers never send that part to a server, so it reaches
    no access log and no Referer header; the page's script posts it. Without JavaScript
    the person types the code, printed under the link.
    """
    path = notification.next_path or "/my/"
    if notification.sign_in_user_id is None:
        return settings.SITE_URL + path, ""
    if notification.token_scope:
        token = get_token(notification.sign_in_user, scope=notification.token_scope)
        return f"{settings.SITE_URL}{path}#{token}", token
    # A fresh single-use token, made now so none is ever stored. Signing in lands on
    # /my/, which lists the person's cases; keeping the link short keeps it on one line
    # (and clickable) in every mail client.
    token = get_token(notification.sign_in_user)
    return f"{settings.SITE_URL}/sign-in/link/#{token}", token


def notification_deliver(*, notification_id: int, final_attempt: bool = False) -> None:
    # Claim the row: exactly one worker moves it from queued (or a failed try) to sending.
    claimed = lease_claim(
        Notification,
        notification_id,
        waiting=[Notification.State.QUEUED, Notification.State.FAILED],
        working=Notification.State.SENDING,
    )
    if not claimed:
        logger.info("notification already handled", extra={"notification_id": notification_id})
        return
    notification = Notification.objects.select_related("case", "sign_in_user").get(
        pk=notification_id
    )
    reference = notification.case.reference if notification.case else ""
    link, code = _link(notification)
    context = {
        "reference": reference,
        "link": link,
        "code": code,
        "kind": notification.kind,
        "link_minutes": settings.SESAME_MAX_AGE // 60,
        "scoped": bool(notification.token_scope),
        "sign_in_url": settings.SITE_URL + "/sign-in/",
        "with_sign_in": notification.sign_in_user_id is not None,
        "contact_url": settings.SITE_URL + "/contact/",
        "contact_email": settings.MEDCHINA_CONTACT_EMAIL,
        "contact_phone": settings.MEDCHINA_CONTACT_PHONE,
        "contact_hours": settings.MEDCHINA_CONTACT_HOURS,
    }
    subject = SUBJECTS[notification.kind].format(reference=reference)
    body = render_to_string("cases/email/notification.txt", context)
    message = EmailMultiAlternatives(subject, body, to=[notification.to_email])
    try:
        message.send()
    except Exception as exc:
        with transaction.atomic():
            Notification.objects.filter(pk=notification_id).update(
                # After the last retry it stays visibly given up, not "will try again".
                state=Notification.State.GAVE_UP if final_attempt else Notification.State.FAILED,
                lease_expires_at=None,
                # The reconciler re-enqueues a failed e-mail left untouched for a while
                # (its retry message may have been lost with the broker).
                queued_at=timezone.now(),
                last_error=f"{type(exc).__name__}: {exc}"[:500],
            )
        logger.warning(
            "notification failed",
            extra={"notification_id": notification_id, "error": type(exc).__name__},
        )
        if not final_attempt:
            raise
        return
    Notification.objects.filter(pk=notification_id).update(
        state=Notification.State.SENT,
        lease_expires_at=None,
        sent_at=timezone.now(),
        last_error="",
    )
    logger.info(
        "notification sent", extra={"notification_id": notification_id, "kind": notification.kind}
    )
