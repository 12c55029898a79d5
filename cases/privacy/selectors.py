"""Read paths for the patient's privacy pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from cases import access
from cases.models import AuditEvent, Case

ROLE_ORDER = ("manager", "translator", "coordinator")


@dataclass(frozen=True)
class StaffAccess:
    at: datetime
    role: str
    what: str
    name: str = ""


def staff_role(user) -> str:
    names = {group.name.lower() for group in user.groups.all()}
    for role in ROLE_ORDER:
        if role in names:
            return role.capitalize()
    return "Staff member"


def staff_access_to_case(case: Case, limit: int = 200) -> list[StaffAccess]:
    """Staff views and downloads of this case, newest first: role and time.

    Staff names are shown only where the operator's policy says so
    (``MEDCHINA_SHOW_STAFF_NAMES``); the role is always shown.
    """
    events = (
        access.staff_access_events(case)
        .select_related("actor")
        .prefetch_related("actor__groups")
        .order_by("-at", "-pk")[:limit]
    )
    roles: dict[int, str] = {}
    out = []
    for event in events:
        actor = event.actor
        if actor is None:  # the query asks for staff actors; this is for the type checker
            continue
        if actor.pk not in roles:
            roles[actor.pk] = staff_role(actor)
        what = event.get_action_display()
        if event.action == AuditEvent.Action.CASE_VIEWED and event.target:
            what = f"Case viewed ({event.target.replace('_', ' ')})"
        name = actor.get_full_name() or actor.username if settings.MEDCHINA_SHOW_STAFF_NAMES else ""
        out.append(StaffAccess(at=event.at, role=roles[actor.pk], what=what, name=name))
    return out
