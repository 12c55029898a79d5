"""Erasure: a case's personal data and every stored file go; a tombstone stays in the audit.

The audit is append-only (a PostgreSQL trigger refuses UPDATE and DELETE), so erasure
never touches an existing audit row: audit rows hold ids and action names only (never
names, addresses or health data), keep the case reference through a foreign key without
a database constraint, and the person's user row is kept but emptied, so the actor ids
in the audit point at nobody in particular.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from cases.audit import audit_log
from cases.domain.workflow import FINAL, Status
from cases.models import (
    AuditEvent,
    Case,
    ErasureRequest,
    Membership,
    Notification,
    SummarySection,
)
from cases.notifications import notification_queue
from cases.records.files import files_under

if TYPE_CHECKING:
    from django.http import HttpRequest


class Reason:
    PATIENT_REQUEST = "patient_request"
    RETENTION = "retention"
    OPERATOR = "operator"


@dataclass
class Erased:
    """What an erasure removed: rows per model, files, and people made anonymous."""

    reference: str
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    people_anonymised: int = 0
    was_shared: bool = False

    def lines(self) -> list[str]:
        out = [f"Erased case {self.reference}."]
        out += [f"  {count} × {label}" for label, count in sorted(self.rows.items()) if count]
        out.append(f"  {len(self.files)} stored file(s)")
        out += [f"    {name}" for name in self.files]
        out.append(f"  {self.people_anonymised} sign-in account(s) emptied")
        if self.was_shared:
            out.append(
                "  The case had been shared with a partner: ask the partner to delete "
                "their copy of the case file."
            )
        return out


def case_ended_at(case: Case):
    """When the case reached its final status (None while it is open)."""
    if case.status not in FINAL:
        return None
    last = case.events.filter(to_status=case.status).order_by("-at", "-pk").first()
    return last.at if last else case.updated_at


def case_was_shared(case: Case) -> bool:
    return case.status == Status.SHARED or case.events.filter(to_status=Status.SHARED).exists()


def erasure_request(*, case: Case, by, request: HttpRequest | None = None) -> ErasureRequest:
    """The patient asks for erasure; a coordinator confirms it. Asking twice is one request."""
    erasure, created = ErasureRequest.objects.get_or_create(
        case=case, defaults={"requested_by": by}
    )
    if created:
        audit_log(
            action=AuditEvent.Action.ERASURE_REQUESTED,
            actor=by,
            case=case,
            request=request,
            shared=case_was_shared(case),
        )
        coordinator = case.assigned_coordinator
        to_email = (
            coordinator.email if coordinator else ""
        ) or settings.MEDCHINA_COORDINATORS_EMAIL
        if to_email:
            notification_queue(
                kind=Notification.Kind.ERASURE_REQUESTED,
                to_email=to_email,
                case=case,
                next_path=reverse("admin:cases_case_erasure", args=[case.pk]),
            )
    return erasure


def erasure_cancel(*, case: Case, by, request: HttpRequest | None = None) -> None:
    deleted, _ = ErasureRequest.objects.filter(case=case).delete()
    if deleted:
        audit_log(action=AuditEvent.Action.ERASURE_CANCELLED, actor=by, case=case, request=request)


def _people(case: Case) -> list[Any]:
    """Accounts whose only link to us is this case: they are emptied too.

    Its members, and the accounts made for the case's addresses (the contact, and the
    patient's own address when someone else filled the enquiry in and the patient was sent
    a link to confirm it, before they became a member). Staff are never touched.
    """
    User = get_user_model()
    addresses = {case.contact_email.lower(), getattr(case, "patient_email", "").lower()} - {""}
    accounts = User.objects.filter(
        Q(case_memberships__case=case) | Q(username__in=addresses), is_staff=False
    ).distinct()
    return [
        user
        for user in accounts
        if not Membership.objects.filter(user=user).exclude(case=case).exists()
    ]


def _anonymise(user) -> None:
    # The row stays so audit rows keep a valid actor id; nothing in it names anyone.
    user.username = f"erased-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.last_login = None
    user.set_unusable_password()
    user.save()


def _forget_sign_in_traces(emails: list[str], users: list) -> int:
    removed, _ = Notification.objects.filter(to_email__in=emails).delete()
    more, _ = Notification.objects.filter(sign_in_user__in=users).delete()
    try:
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    except ImportError:  # axes not installed: nothing to forget
        return removed + more
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=emails).delete()
    return removed + more


def case_erase(*, case: Case, by, reason: str, request: HttpRequest | None = None) -> Erased:
    """Delete the case, every row and file that belongs to it, and the people only it knew.

    What stays: one audit row (reference, when it was submitted and ended, "erased") and
    the earlier audit rows, which hold no personal data. Files go once this commits.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        result = Erased(reference=case.reference, was_shared=case_was_shared(case))
        ended = case_ended_at(case)
        people = _people(case)
        emails = sorted({case.contact_email.lower(), *(u.email.lower() for u in people)} - {""})
        files = files_under([case])
        result.files = sorted(name for _storage, name in files)
        # The tombstone first: reference and dates, nothing else.
        audit_log(
            action=AuditEvent.Action.CASE_ERASED,
            actor=by,
            case=case,
            request=request,
            reason=reason,
            submitted=case.submitted_at.date().isoformat(),
            ended=ended.date().isoformat() if ended else "",
            shared=result.was_shared,
        )
        history = SummarySection.history.filter(case_id=case.pk)
        result.rows["summary history"] = history.count()
        history.delete()
        result.rows["e-mails"] = _forget_sign_in_traces(emails, people)
        _total, per_model = case.delete()
        for label, count in per_model.items():
            name = label.split(".")[-1]
            result.rows[name] = result.rows.get(name, 0) + count
        for user in people:
            _anonymise(user)
        result.people_anonymised = len(people)
        # The rows' delete signal removes these files after commit (files.py); nothing
        # more to do here but say which they were.
    return result


def erasure_confirm(*, case: Case, by, request: HttpRequest | None = None) -> Erased:
    """A coordinator confirms the patient's request."""
    if not ErasureRequest.objects.filter(case=case).exists():
        raise ValidationError("The patient has not asked for this case to be erased.")
    return case_erase(case=case, by=by, reason=Reason.PATIENT_REQUEST, request=request)
