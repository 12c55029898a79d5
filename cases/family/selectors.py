"""Read paths for the family page."""

from __future__ import annotations

from cases.models import AuditEvent, Case

FAMILY_ACTIONS = [
    AuditEvent.Action.INVITATION_SENT,
    AuditEvent.Action.INVITATION_ACCEPTED,
    AuditEvent.Action.INVITATION_REVOKED,
    AuditEvent.Action.ACCESS_GRANTED,
    AuditEvent.Action.ACCESS_REVOKED,
]


def family_history(case: Case) -> list[AuditEvent]:
    """The latest changes to who helps with the case, for the patient's family page.

    Each event gets ``who``: the address it concerned, looked up now. Audit rows hold ids,
    not addresses (an erased person must not stay in the audit), so the address comes from
    the invitation or membership while they exist.
    """
    events = list(case.audit_events.filter(action__in=FAMILY_ACTIONS).select_related("actor")[:50])
    invitations = {str(i.public_id): i.email for i in case.invitations.all()}
    members = {f"membership:{m.pk}": m.user.email for m in case.memberships.select_related("user")}
    for event in events:
        event.who = invitations.get(event.target) or members.get(event.target) or ""  # type: ignore[attr-defined]
    return events
