"""Secure messages: one thread per case between its members and its coordinators.

The e-mail about a message says only that there is one, with a link; the text stays
behind the sign-in. Attachments go through the same checks as any upload and become
records of the case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cases import access
from cases.audit import audit_log
from cases.models import (
    AuditEvent,
    Case,
    Membership,
    Message,
    MessageRead,
    Notification,
    Record,
    RecordCategory,
)
from cases.notifications import notification_queue
from cases.records.services import AddResult, record_add

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest


MAX_LENGTH = 5000


def message_send(
    *,
    case: Case,
    author,
    body: str,
    files: list[UploadedFile] | None = None,
    category: str = RecordCategory.OTHER,
    request: HttpRequest | None = None,
) -> tuple[Message, list[AddResult]]:
    """Post a message (and its attachments, as records) and tell the other side.

    Text over the limit is refused, never cut. Attachments that fail the upload rules are
    reported in the results, as on the records page; the message is sent all the same.
    """
    body = body.strip()
    if not body and not files:
        raise ValidationError("Write a message, or attach a file.")
    if len(body) > MAX_LENGTH:
        raise ValidationError(
            f"Your message is {len(body):,} characters long; the limit is {MAX_LENGTH:,}. "
            "Please shorten it, or send it in two parts."
        )
    results: list[AddResult] = []
    with transaction.atomic():
        message = Message.objects.create(
            case=case, author=author, from_staff=bool(author.is_staff), body=body
        )
        for upload in files or []:
            result = record_add(
                case=case, file=upload, category=category, uploaded_by=author, request=request
            )
            if result.record is not None:
                Record.objects.filter(pk=result.record.pk).update(message=message)
            results.append(result)
        audit_log(
            action=AuditEvent.Action.MESSAGE_SENT,
            actor=author,
            case=case,
            target=str(message.public_id),
            request=request,
            attachments=sum(1 for r in results if r.record is not None),
            from_staff=message.from_staff,
        )
        MessageRead.objects.update_or_create(
            case=case, user=author, defaults={"read_at": message.created_at}
        )
        _notify(message)
    return message, results


def _notify(message: Message) -> None:
    case = message.case
    if message.from_staff:
        for membership in access.message_readers(case):
            notification_queue(
                kind=Notification.Kind.NEW_MESSAGE,
                to_email=membership.user.email,
                case=case,
                next_path=f"/my/cases/{case.reference}/messages/",
            )
        return
    coordinator = case.assigned_coordinator
    to_email = coordinator.email if coordinator and coordinator.email else ""
    to_email = to_email or settings.MEDCHINA_COORDINATORS_EMAIL
    if to_email:
        notification_queue(
            kind=Notification.Kind.NEW_MESSAGE,
            to_email=to_email,
            case=case,
            next_path=reverse("admin:cases_case_messages", args=[case.pk]),
        )
    # A member's message is someone else's news too: the other members who may read it.
    for membership in access.message_readers(case).exclude(user=message.author):
        notification_queue(
            kind=Notification.Kind.NEW_MESSAGE,
            to_email=membership.user.email,
            case=case,
            next_path=f"/my/cases/{case.reference}/messages/",
        )


def thread(case: Case) -> QuerySet[Message]:
    return (
        case.messages.select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def thread_mark_read(*, case: Case, user) -> None:
    MessageRead.objects.update_or_create(case=case, user=user, defaults={"read_at": timezone.now()})


def unread_count(*, case: Case, user) -> int:
    """Messages this person has not read yet, in one query (the read mark is a subquery)."""
    last_read = MessageRead.objects.filter(case=case, user=user).values("read_at")[:1]
    messages = (
        case.messages.exclude(author=user)
        .annotate(last_read=Subquery(last_read))
        .filter(Q(last_read__isnull=True) | Q(created_at__gt=F("last_read")))
    )
    if user.is_staff:
        messages = messages.filter(from_staff=False)
    return messages.count()


def unread_by_case(case_ids: list[str], user: User) -> dict[str, int]:
    """Unread messages per case for this person, for their list of cases."""
    annotated = with_unread(Case.objects.filter(pk__in=case_ids), user)
    return {case.pk: case.unread_messages for case in annotated}  # type: ignore[attr-defined]


def with_unread(cases: QuerySet[Case], user) -> QuerySet[Case]:
    """Annotate ``unread_messages`` for this person; coordinators count members' messages."""
    last_read = MessageRead.objects.filter(case=OuterRef("case"), user=user).values("read_at")[:1]
    newer = (
        Message.objects.filter(case=OuterRef("pk"))
        .exclude(author=user)
        .annotate(last_read=Subquery(last_read))
        .filter(Q(last_read__isnull=True) | Q(created_at__gt=F("last_read")))
    )
    if user.is_staff:
        newer = newer.filter(from_staff=False)
    counted = newer.order_by().values("case").annotate(n=Count("pk")).values("n")
    return cases.annotate(unread_messages=Coalesce(Subquery(counted), 0))


def thread_for_reader(case: Case, reader) -> list[Message]:
    """The thread, each message labelled as this reader should see its author."""
    roles = {
        m.user_id: m for m in case.memberships.select_related("user").filter(user__isnull=False)
    }
    out = list(thread(case))
    for message in out:
        if message.author_id == reader.pk:
            label = "You"
        elif message.from_staff:
            label = "Coordinator" if not reader.is_staff else _staff_name(message.author)
        elif message.author_id in roles:
            membership = roles[message.author_id]
            label = (
                "The patient"
                if membership.role == Membership.Role.PATIENT
                else f"{membership.get_role_display()} ({membership.user.email})"
            )
        else:
            label = "A former member of the case"
        message.author_label = label  # type: ignore[attr-defined]
    return out


def _staff_name(user) -> str:
    if user is None:
        return "Coordinator"
    return user.get_full_name() or user.username


def last_read(*, case: Case, user):
    return (
        MessageRead.objects.filter(case=case, user=user).values_list("read_at", flat=True).first()
    )
