"""Read paths for the family page."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import AuditEvent, Case

FAMILY_ACTIONS = [
    AuditEvent.Action.INVITATION_SENT,
    AuditEvent.Action.INVITATION_ACCEPTED,
    AuditEvent.Action.INVITATION_REVOKED,
    AuditEvent.Action.ACCESS_GRANTED,
    AuditEvent.Action.ACCESS_REVOKED,
]


def family_history(case: Case) -> QuerySet[AuditEvent]:
    """The latest changes to who helps with the case, for the patient's family page."""
    return case.audit_events.filter(action__in=FAMILY_ACTIONS).select_related("actor")[:50]
