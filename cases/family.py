"""Family members: invitations, acceptance, and what each may see."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import AuditEvent, Case, Invitation, Membership, Notification
from cases.services import audit_log, notification_queue, user_get_or_create_for_email
from cases.workflow import FINAL

if TYPE_CHECKING:
    from django.http import HttpRequest

INVITATION_DAYS = 7


def invitation_scope(invitation: Invitation) -> str:
    return f"invitation:{invitation.public_id}"


def invitation_send(
    *,
    case: Case,
    email: str,
    can_view_all_records: bool,
    invited_by,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite someone by e-mail to help with this case; the link works once, for 7 days."""
    email = email.strip().lower()
    if case.status in FINAL:
        raise ValidationError("This case is closed, so nobody new can join it.")
    if case.memberships.filter(user__username=email, revoked_at__isnull=True).exists():
        raise ValidationError("This person already helps with this case.")
    with transaction.atomic():
        invitee = user_get_or_create_for_email(email=email)
        invitation = Invitation.objects.create(
            case=case,
            email=email,
            invited_by=invited_by,
            can_view_all_records=can_view_all_records,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        notification_queue(
            kind=Notification.Kind.INVITATION,
            to_email=email,
            case=case,
            sign_in_user=invitee,
            next_path=f"/invitations/{invitation.public_id}/",
            token_scope=invitation_scope(invitation),
        )
        audit_log(
            action=AuditEvent.Action.INVITATION_SENT,
            actor=invited_by,
            case=case,
            target=str(invitation.public_id),
            request=request,
            can_view_all_records=can_view_all_records,
        )
    return invitation


def invitation_revoke(*, invitation: Invitation, by, request: HttpRequest | None = None) -> None:
    if not invitation.is_open:
        raise ValidationError("This invitation can no longer be cancelled.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_log(
        action=AuditEvent.Action.INVITATION_REVOKED,
        actor=by,
        case=invitation.case,
        target=str(invitation.public_id),
        request=request,
    )


def invitation_meant_for_someone_else(*, public_id: str, user) -> bool:
    """Is a signed-in person opening an invitation addressed to another e-mail address?

    Accepting would sign them in as the invitee and out of their own account (a patient
    trying out the link they sent to their daughter lost their own case that way), and
    would spend the invitation. Unknown invitations are not "someone else's": they get
    the usual invalid-link page.
    """
    if not user.is_authenticated:
        return False
    email = Invitation.objects.filter(public_id=public_id).values_list("email", flat=True).first()
    return email is not None and email.lower() != (user.email or "").lower()


class InvitationInvalid(Exception):
    """The invitation cannot be used; the message says why in plain English."""


def invitation_accept(*, public_id: str, token: str, request: HttpRequest) -> Membership:
    """Turn an open invitation into a contributor membership for the invited address."""
    invitation = Invitation.objects.select_related("case").filter(public_id=public_id).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid.")
    user = authenticate(
        request,
        sesame=token,
        scope=invitation_scope(invitation),
        max_age=timedelta(days=INVITATION_DAYS),
    )
    if user is None or user.email.lower() != invitation.email:
        raise InvitationInvalid(
            "This invitation link has expired or was already used. Ask the person who "
            "invited you to send a new one."
        )
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at:
            raise InvitationInvalid("This invitation was cancelled by the person who sent it.")
        if invitation.accepted_at:
            raise InvitationInvalid("This invitation has already been accepted.")
        if invitation.expires_at <= timezone.now():
            raise InvitationInvalid(
                "This invitation has expired. Ask the person who invited you to send a new one."
            )
        membership, _ = Membership.objects.update_or_create(
            case=invitation.case,
            user=user,
            defaults={
                "role": Membership.Role.CONTRIBUTOR,
                "can_view_all_records": invitation.can_view_all_records,
                "revoked_at": None,
                "created_at": timezone.now(),
            },
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_log(
            action=AuditEvent.Action.INVITATION_ACCEPTED,
            actor=user,
            case=invitation.case,
            target=str(invitation.public_id),
            request=request,
        )
    membership.user = user
    return membership


def membership_set_view_all(
    *, membership: Membership, can_view_all_records: bool, by, request: HttpRequest | None = None
) -> None:
    if membership.manages_case:
        raise ValidationError("The patient always sees every record.")
    membership.can_view_all_records = can_view_all_records
    membership.save(update_fields=["can_view_all_records"])
    audit_log(
        action=AuditEvent.Action.ACCESS_GRANTED,
        actor=by,
        case=membership.case,
        target=membership.user.email,
        request=request,
        can_view_all_records=can_view_all_records,
    )


def membership_revoke(*, membership: Membership, by, request: HttpRequest | None = None) -> None:
    if membership.manages_case:
        raise ValidationError("The patient's own access cannot be removed here.")
    membership.revoked_at = timezone.now()
    membership.save(update_fields=["revoked_at"])
    audit_log(
        action=AuditEvent.Action.ACCESS_REVOKED,
        actor=by,
        case=membership.case,
        target=membership.user.email,
        request=request,
    )


FAMILY_ACTIONS = [
    AuditEvent.Action.INVITATION_SENT,
    AuditEvent.Action.INVITATION_ACCEPTED,
    AuditEvent.Action.INVITATION_REVOKED,
    AuditEvent.Action.ACCESS_GRANTED,
    AuditEvent.Action.ACCESS_REVOKED,
]


def family_history(case: Case):
    return case.audit_events.filter(action__in=FAMILY_ACTIONS).select_related("actor")[:50]
