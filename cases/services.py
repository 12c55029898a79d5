"""Write paths for cases. Views, admin actions and tasks call these; nothing else writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.consents import ConsentKind, consent_text
from cases.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Consent,
    Membership,
    Notification,
    active_consent,
)
from cases.workflow import NOTE_REQUIRED, PATIENT_TRANSITIONS, Status, can_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


class TransitionNotAllowed(ValidationError):
    pass


def client_ip(request: HttpRequest | None) -> str | None:
    # medchina.proxy.TrustedProxyMiddleware has already replaced the proxy's address
    # with the client's, taken from X-Forwarded-For only when our own proxy sent it.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_log(
    *,
    action: str,
    actor: AbstractBaseUser | None = None,
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


def case_transition(
    *,
    case: Case,
    to: str,
    actor: AbstractBaseUser | None,
    note: str = "",
    request: HttpRequest | None = None,
    by_patient: bool = False,
    notify: bool = True,
) -> Case:
    """Move a case to another status, if the workflow allows it, and record why.

    Re-reads the case under a row lock so two coordinators clicking at once cannot both
    move it from the same starting point.
    """
    target = Status(to)
    note = note.strip()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        current = locked.status
        if not can_transition(current, target):
            raise TransitionNotAllowed(
                f"A case that is {Status(current).label.lower()} cannot move to "
                f"{target.label.lower()}."
            )
        if by_patient and target not in PATIENT_TRANSITIONS:
            raise TransitionNotAllowed("Only a coordinator can make this change.")
        if target in NOTE_REQUIRED and not note:
            raise TransitionNotAllowed(f"Moving a case to {target.label.lower()} needs a reason.")
        blocker = transition_blocker(case=locked, target=target)
        if blocker:
            raise TransitionNotAllowed(blocker)
        locked.status = target
        locked.save(update_fields=["status", "updated_at"])
        CaseEvent.objects.create(
            case=locked, from_status=current, to_status=target, actor=actor, note=note
        )
        audit_log(
            action=AuditEvent.Action.CASE_STATUS_CHANGED,
            actor=actor,
            case=locked,
            request=request,
            from_status=current,
            to_status=str(target),
        )
        if notify and not by_patient:
            for email in case_manager_emails(case=locked):
                notification_queue(
                    kind=Notification.Kind.STATUS_CHANGED,
                    to_email=email,
                    case=locked,
                    next_path=f"/my/cases/{locked.reference}/",
                )
    case.status = locked.status
    return locked


def transition_blocker(*, case: Case, target: Status) -> str:
    """What must happen before this move, beyond the workflow table; "" when nothing."""
    if (
        target == Status.READY
        and not case.case_files.filter(
            variant="partner", state="ready", approved_at__isnull=False
        ).exists()
    ):
        return (
            "A case is ready only with a partner case file that is ready and approved by a "
            "coordinator. Generate one and approve it first."
        )
    if target == Status.SHARED and active_consent(case, ConsentKind.SHARING) is None:
        return "A case file is shared only with the patient's consent to sharing."
    return ""


def case_manager_emails(*, case: Case) -> list[str]:
    return list(
        case.memberships.filter(
            role__in=[Membership.Role.PATIENT, Membership.Role.REPRESENTATIVE],
            revoked_at__isnull=True,
        ).values_list("user__email", flat=True)
    )


def user_get_or_create_for_email(*, email: str, name: str = ""):
    """Patients and family members are users named by their e-mail, with no password."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip().lower()
    user, created = User.objects.get_or_create(
        username=email, defaults={"email": email, "first_name": name[:150]}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def notification_queue(
    *,
    kind: str,
    to_email: str,
    case: Case | None = None,
    sign_in_user=None,
    next_path: str = "",
    token_scope: str = "",
) -> Notification:
    """Store the e-mail we owe and send it from a worker once this transaction commits."""
    from cases.tasks import notification_send

    notification = Notification.objects.create(
        kind=kind,
        to_email=to_email,
        case=case,
        sign_in_user=sign_in_user,
        next_path=next_path,
        token_scope=token_scope,
    )
    transaction.on_commit(lambda: notification_send.delay(notification.pk))
    return notification


@dataclass(frozen=True)
class Enquiry:
    """A complete, validated enquiry as the wizard collected it."""

    submitted_by_family: bool
    relationship: str
    representative_authority: str
    patient_email: str
    contact_name: str
    contact_email: str
    contact_phone: str
    preferred_contact: str
    contact_times: str
    patient_name: str
    patient_date_of_birth: date
    nhs_number: str
    current_provider: str
    medical_area: str
    diagnosis: str
    treatment_so_far: str
    treatment_plan: str
    worries: str
    questions: list[str]
    goal: str
    decision_deadline: date | None
    language: str
    interpretation_needs: str
    consents: list[str]


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
        fields = {
            name: getattr(enquiry, name)
            for name in Enquiry.__dataclass_fields__
            if name != "consents"
        }
        case = Case.objects.create(**fields)
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
        from cases.records import case_completeness_refresh  # records builds on services

        case_completeness_refresh(case)
        notification_queue(
            kind=Notification.Kind.CASE_RECEIVED,
            to_email=user.email,
            case=case,
            sign_in_user=user,
            next_path=f"/my/cases/{case.reference}/",
        )
        if enquiry.submitted_by_family and enquiry.patient_email:
            from cases.representatives import patient_confirmation_send

            patient_confirmation_send(case=case, request=request)
    return case


def consent_give(
    *,
    case: Case,
    kind: str,
    user,
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


def consent_withdraw(*, case: Case, kind: str, user, request: HttpRequest | None = None) -> int:
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


def case_withdraw(*, case: Case, user, request: HttpRequest | None = None) -> Case:
    return case_transition(
        case=case,
        to=Status.WITHDRAWN,
        actor=user,
        note="Withdrawn by the patient from the portal.",
        request=request,
        by_patient=True,
    )


def case_preparation_update(
    *, case: Case, ticked: list[str], user, request: HttpRequest | None = None
) -> Case:
    from cases.selectors import PREPARATION_QUESTIONS

    known = [key for key, _ in PREPARATION_QUESTIONS]
    case.preparation_ticked = [key for key in known if key in set(ticked)]
    case.last_patient_activity_at = timezone.now()
    case.save(update_fields=["preparation_ticked", "last_patient_activity_at", "updated_at"])
    audit_log(action=AuditEvent.Action.PREPARATION_UPDATED, actor=user, case=case, request=request)
    return case


def sign_in_link_request(
    *, email: str, request: HttpRequest | None = None, ip_address: str | None = None
) -> None:
    """Send a sign-in link if this address belongs to a case member; otherwise nothing.

    Runs in a task (``cases.tasks.sign_in_link_request``): the page does the same work
    for every address, so neither its answer nor its timing says who has an enquiry.
    """
    User = get_user_model()
    email = email.strip().lower()
    user = User.objects.filter(username=email, is_active=True).first()
    if user is None or not Membership.objects.filter(user=user, revoked_at__isnull=True).exists():
        return
    with transaction.atomic():
        notification_queue(
            kind=Notification.Kind.SIGN_IN_LINK,
            to_email=user.email,
            sign_in_user=user,
            next_path="/my/",
        )
        audit_log(
            action=AuditEvent.Action.SIGN_IN_LINK_SENT,
            actor=user,
            request=request,
            ip_address=ip_address,
        )
