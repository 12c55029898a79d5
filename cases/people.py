"""People are users named by their e-mail: patients and family have no password and
sign in with a link."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction

from cases.access import has_active_membership
from cases.audit import audit_log
from cases.models import AuditEvent, Notification
from cases.notifications import notification_queue

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


def user_get_or_create_for_email(*, email: str, name: str = "") -> User:
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
    if user is None or not has_active_membership(user):
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
