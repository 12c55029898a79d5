"""Case-level write paths: submitting an enquiry, consents, the preparation checklist.

Views, admin actions and tasks call these (and the sub-packages' services); nothing else
writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.audit import audit_log
from cases.domain.consents import ConsentKind, consent_text
from cases.domain.enquiry import ENQUIRY_FIELDS, Enquiry
from cases.domain.preparation import preparation_keys_clean
from cases.domain.workflow import Status
from cases.models import AuditEvent, Case, CaseEvent, Consent, Membership, Notification
from cases.notifications import notification_queue
from cases.people import user_get_or_create_for_email
from cases.records.services import case_completeness_refresh
from cases.representatives import patient_confirmation_send

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


def case_submit(*, enquiry: Enquiry, request: HttpRequest | None = None) -> Case:
    """Create the case, its first member, the consents and the audit trail in one go.

    A family member or carer's consents are recorded in their on-behalf wording with the
    authority they stated; if they gave the patient's own e-mail address, the patient is
    sent a link to confirm the enquiry (``cases.representatives``).
    """
    missing = {ConsentKind.PROCESSING, ConsentKind.BOUNDARIES} - set(enquiry.consents)
    if missing:
        raise ValidationError("The enquiry cannot be sent without the required consents.")
    if enquiry.submitted_by_family and not enquiry.representative_authority:
        raise ValidationError("A representative must say what allows them to act.")
    with transaction.atomic():
        user = user_get_or_create_for_email(email=enquiry.contact_email, name=enquiry.contact_name)
        case = Case.objects.create(**{name: getattr(enquiry, name) for name in ENQUIRY_FIELDS})
        Membership.objects.create(
            case=case,
            user=user,
            role=(
                Membership.Role.REPRESENTATIVE
                if enquiry.submitted_by_family
                else Membership.Role.PATIENT
            ),
            can_view_all_records=True,
        )
        CaseEvent.objects.create(case=case, to_status=Status.SUBMITTED, actor=user)
        for kind in enquiry.consents:
            consent_give(
                case=case,
                kind=kind,
                user=user,
                request=request,
                authority=enquiry.representative_authority if enquiry.submitted_by_family else "",
            )
        audit_log(action=AuditEvent.Action.CASE_SUBMITTED, actor=user, case=case, request=request)
        case_completeness_refresh(case)
        notification_queue(
            kind=Notification.Kind.CASE_RECEIVED,
            to_email=user.email,
            case=case,
            sign_in_user=user,
            next_path=f"/my/cases/{case.reference}/",
        )
        if enquiry.submitted_by_family and enquiry.patient_email:
            patient_confirmation_send(case=case, request=request)
    return case


def consent_give(
    *,
    case: Case,
    kind: str,
    user: User,
    request: HttpRequest | None = None,
    authority: str = "",
) -> Consent:
    """Record a consent in the words the person saw: their own, or on the patient's behalf
    under ``authority`` (a representative's)."""
    text = consent_text(kind, on_behalf=bool(authority))
    consent = Consent.objects.create(
        case=case,
        kind=kind,
        given_by=user,
        text_version=text.version,
        text_sha256=text.sha256,
        authority=authority,
    )
    audit_log(
        action=AuditEvent.Action.CONSENT_GIVEN,
        actor=user,
        case=case,
        request=request,
        kind=str(kind),
        version=text.version,
        authority=authority,
    )
    return consent


def consent_withdraw(
    *, case: Case, kind: str, user: User, request: HttpRequest | None = None
) -> int:
    withdrawn = case.consents.filter(kind=kind, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    if withdrawn:
        audit_log(
            action=AuditEvent.Action.CONSENT_WITHDRAWN,
            actor=user,
            case=case,
            request=request,
            kind=str(kind),
        )
    return withdrawn


def case_preparation_update(
    *, case: Case, ticked: list[str], user, request: HttpRequest | None = None
) -> Case:
    case.preparation_ticked = preparation_keys_clean(ticked)
    case.last_patient_activity_at = timezone.now()
    case.save(update_fields=["preparation_ticked", "last_patient_activity_at", "updated_at"])
    audit_log(action=AuditEvent.Action.PREPARATION_UPDATED, actor=user, case=case, request=request)
    return case
