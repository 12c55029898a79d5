"""Family members: invitations, acceptance, grants and removal.

Who may see what is decided in ``cases.access``; these functions change it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.access import access_changeable, invitation_is_for, is_active_member, may_join
from cases.audit import audit_log
from cases.models import AuditEvent, Case, Invitation, Membership, Notification
from cases.notifications import notification_queue
from cases.people import user_get_or_create_for_email

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
    invited_by: User,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite someone by e-mail to help with this case; the link works once, for 7 days."""
    email = email.strip().lower()
    if not may_join(case):
        raise ValidationError("This case is closed, so nobody new can join it.")
    if is_active_member(case, email):
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


def invitation_revoke(
    *, invitation: Invitation, by: User, request: HttpRequest | None = None
) -> None:
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


class InvitationInvalid(Exception):
    """The invitation cannot be used; the message says why in plain English."""


def _invitation_for_token(
    *, public_id: str, token: str, request: HttpRequest
) -> tuple[Invitation, User]:
    """The invitation and the invited person, if this token is theirs; else InvitationInvalid."""
    invitation = Invitation.objects.select_related("case").filter(public_id=public_id).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid.")
    user = (
        authenticate(
            request,
            sesame=token,
            scope=invitation_scope(invitation),
            max_age=timedelta(days=INVITATION_DAYS),
        )
        if token
        else None
    )
    if not isinstance(user, User) or not invitation_is_for(invitation, user):
        raise InvitationInvalid(
            "This invitation link has expired or was already used. Ask the person who "
            "invited you to send a new one."
        )
    return invitation, user


def _refuse_if_closed(invitation: Invitation) -> None:
    if invitation.revoked_at:
        raise InvitationInvalid("This invitation was cancelled by the person who sent it.")
    if invitation.accepted_at:
        raise InvitationInvalid("This invitation has already been accepted.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(
            "This invitation has expired. Ask the person who invited you to send a new one."
        )


def invitation_closed_reason(public_id: str) -> str:
    """Why an invitation can no longer be used ("" while it is open, or unknown).

    Opening the link again after accepting it showed "Accept" as if nothing had happened;
    the page now says at once that it was accepted, cancelled or has expired.
    """
    invitation = Invitation.objects.filter(public_id=public_id).first()
    if invitation is None:
        return ""
    try:
        _refuse_if_closed(invitation)
    except InvitationInvalid as closed:
        return str(closed)
    return ""


def invitation_invitee(*, public_id: str, token: str, request: HttpRequest) -> User:
    """Who an open invitation is for, checked without using the single-use token."""
    invitation, user = _invitation_for_token(public_id=public_id, token=token, request=request)
    _refuse_if_closed(invitation)
    return user


def invitation_accept(*, public_id: str, token: str, request: HttpRequest) -> Membership:
    """Turn an open invitation into a contributor membership for the invited address."""
    invitation, user = _invitation_for_token(public_id=public_id, token=token, request=request)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _refuse_if_closed(invitation)
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
    *,
    membership: Membership,
    can_view_all_records: bool,
    by: User,
    request: HttpRequest | None = None,
) -> None:
    if not access_changeable(membership):
        raise ValidationError("The patient always sees every record.")
    membership.can_view_all_records = can_view_all_records
    membership.save(update_fields=["can_view_all_records"])
    audit_log(
        action=AuditEvent.Action.ACCESS_GRANTED,
        actor=by,
        case=membership.case,
        target=f"membership:{membership.pk}",
        request=request,
        can_view_all_records=can_view_all_records,
    )


def membership_revoke(
    *, membership: Membership, by: User, request: HttpRequest | None = None
) -> None:
    if not access_changeable(membership):
        raise ValidationError("The patient's own access cannot be removed here.")
    membership.revoked_at = timezone.now()
    membership.save(update_fields=["revoked_at"])
    audit_log(
        action=AuditEvent.Action.ACCESS_REVOKED,
        actor=by,
        case=membership.case,
        target=f"membership:{membership.pk}",
        request=request,
    )
