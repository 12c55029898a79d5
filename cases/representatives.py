"""Enquiries made for a patient by a family member or carer: the patient's own say.

When a representative gives the patient's e-mail address, the patient is sent their own
link. Opening it, they either confirm the enquiry — and become the case's patient
member, able to follow it and to give the consent to share with China themselves — or
say they did not agree to it, and the case is withdrawn.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from cases.audit import audit_log
from cases.domain.workflow import FINAL, Status, can_transition
from cases.models import AuditEvent, Case, Membership, Notification
from cases.notifications import notification_queue
from cases.people import user_get_or_create_for_email
from cases.transitions import case_transition

if TYPE_CHECKING:
    from django.http import HttpRequest

CONFIRMATION_DAYS = 7


class ConfirmationInvalid(Exception):
    """The link cannot be used; the message says why in plain English."""


def confirmation_scope(case: Case) -> str:
    return f"patient-confirmation:{case.reference}"


def patient_confirmation_send(*, case: Case, request: HttpRequest | None = None) -> None:
    """E-mail the patient their own link to confirm an enquiry made for them."""
    patient = user_get_or_create_for_email(email=case.patient_email, name=case.patient_name)
    notification_queue(
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        to_email=patient.email,
        case=case,
        sign_in_user=patient,
        next_path=f"/confirm/{case.reference}/",
        token_scope=confirmation_scope(case),
    )
    audit_log(
        action=AuditEvent.Action.PATIENT_CONFIRMATION_SENT,
        case=case,
        request=request,
    )


def confirmation_person(*, case: Case, token: str, user, request: HttpRequest):
    """The patient, proven by their link — or already signed in with the patient's address.

    Raises ``ConfirmationInvalid`` for anyone else, so a forwarded or stale link does
    nothing.
    """
    patient_email = case.patient_email.lower()
    if user.is_authenticated and user.email.lower() == patient_email:
        return user
    person = (
        authenticate(
            request,
            sesame=token,
            scope=confirmation_scope(case),
            max_age=timedelta(days=CONFIRMATION_DAYS),
        )
        if token
        else None
    )
    if person is None or person.email.lower() != patient_email:
        raise ConfirmationInvalid(
            "This link has expired or was already used. If the enquiry was made for you, "
            "sign in with your e-mail address, or contact us."
        )
    return person


def patient_confirm(*, case: Case, patient, request: HttpRequest | None = None) -> Membership:
    """The patient agrees to the enquiry: they join their case as its patient."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status in FINAL:
            raise ConfirmationInvalid(
                "This enquiry has been closed, so there is nothing to confirm."
            )
        membership, _created = Membership.objects.update_or_create(
            case=locked,
            user=patient,
            defaults={
                "role": Membership.Role.PATIENT,
                "can_view_all_records": True,
                "revoked_at": None,
            },
        )
        if locked.patient_confirmed_at is None:
            locked.patient_confirmed_at = timezone.now()
            locked.save(update_fields=["patient_confirmed_at", "updated_at"])
            audit_log(
                action=AuditEvent.Action.PATIENT_CONFIRMED,
                actor=patient,
                case=locked,
                request=request,
            )
    case.patient_confirmed_at = locked.patient_confirmed_at
    return membership


def patient_disown(*, case: Case, patient, request: HttpRequest | None = None) -> None:
    """The patient did not agree to the enquiry: record it and stop work on the case.

    We do not work on an enquiry the patient does not know about or does not want.
    """
    with transaction.atomic():
        audit_log(
            action=AuditEvent.Action.PATIENT_DISOWNED,
            actor=patient,
            case=case,
            request=request,
        )
        if can_transition(case.status, Status.WITHDRAWN):
            case_transition(
                case=case,
                to=Status.WITHDRAWN,
                actor=patient,
                note="The patient told us they did not agree to this enquiry.",
                request=request,
                by_patient=True,
            )
