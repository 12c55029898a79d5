"""The case status workflow: every allowed transition lives here and nowhere else."""

from __future__ import annotations

from cases.domain.choices import LabelledChoice


class Status(LabelledChoice):
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "Triage"
    AWAITING_RECORDS = "awaiting_records", "Awaiting records"
    DRAFTING = "drafting", "Drafting"
    REVIEW = "review", "Review"
    READY = "ready", "Ready"
    SHARED = "shared", "Shared"
    OPINION_RECEIVED = "opinion_received", "Opinion received"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DECLINED = "declined", "Declined"


S = Status

# Withdrawal is the patient's right at any point before the case is closed; declining is
# the coordinator's, with a reason, until a file has been shared.
_WITHDRAWABLE = {
    S.SUBMITTED,
    S.TRIAGE,
    S.AWAITING_RECORDS,
    S.DRAFTING,
    S.REVIEW,
    S.READY,
    S.SHARED,
    S.OPINION_RECEIVED,
}
_DECLINABLE = {S.SUBMITTED, S.TRIAGE, S.AWAITING_RECORDS, S.DRAFTING, S.REVIEW, S.READY}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.TRIAGE}),
    S.TRIAGE: frozenset({S.AWAITING_RECORDS, S.DRAFTING}),
    S.AWAITING_RECORDS: frozenset({S.TRIAGE, S.DRAFTING}),
    S.DRAFTING: frozenset({S.AWAITING_RECORDS, S.REVIEW}),
    S.REVIEW: frozenset({S.DRAFTING, S.READY}),
    S.READY: frozenset({S.SHARED, S.DRAFTING}),
    S.SHARED: frozenset({S.OPINION_RECEIVED}),
    S.OPINION_RECEIVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.DECLINED: frozenset(),
}
for _status in _WITHDRAWABLE:
    TRANSITIONS[_status] = TRANSITIONS[_status] | {S.WITHDRAWN}
for _status in _DECLINABLE:
    TRANSITIONS[_status] = TRANSITIONS[_status] | {S.DECLINED}

# Transitions a patient may make themselves; everything else is a coordinator's. A
# coordinator withdraws a case only on the patient's request, through its own action that
# records how they asked (``WithdrawalChannel``), never through the ordinary buttons.
PATIENT_TRANSITIONS = frozenset({S.WITHDRAWN})
# Final moves nobody can undo: the case page asks "Are you sure?" before making them.
CONFIRM_FIRST = frozenset({S.WITHDRAWN, S.DECLINED, S.CLOSED})


class WithdrawalChannel(LabelledChoice):
    PHONE = "phone", "by phone"
    EMAIL = "email", "by e-mail"
    LETTER = "letter", "by letter"
    IN_PERSON = "in_person", "in person"
    MESSAGE = "message", "in a secure message"


# Transitions that need a note (the reason is shown to the patient with kind guidance).
NOTE_REQUIRED = frozenset({S.DECLINED})

FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

# Before review a patient may still delete or replace what they sent; from review on, the
# case file may already be built from it.
RECORDS_CHANGEABLE = frozenset(
    {Status.SUBMITTED, Status.TRIAGE, Status.AWAITING_RECORDS, Status.DRAFTING}
)
OPEN = frozenset(Status) - FINAL


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def allowed_targets(current: str) -> list[Status]:
    order = list(Status)
    return sorted(TRANSITIONS[Status(current)], key=order.index)


def coordinator_targets(current: str) -> list[Status]:
    """The case page's buttons: every allowed move but withdrawal (its own action)."""
    return [target for target in allowed_targets(current) if target != S.WITHDRAWN]


# What the patient reads on their portal, in plain English.
PATIENT_TEXT: dict[Status, tuple[str, str]] = {
    S.SUBMITTED: (
        "We have received your enquiry",
        "A coordinator will read it, usually within 2 working days, and tell you what "
        "records would help. You can start uploading records now.",
    ),
    S.TRIAGE: (
        "A coordinator is reading your enquiry",
        "They are checking whether we can help and which records are needed.",
    ),
    S.AWAITING_RECORDS: (
        "We need some more records",
        "Please upload the records listed below. Your case continues when they arrive.",
    ),
    S.DRAFTING: (
        "We are preparing your case summary",
        "A coordinator is writing a factual summary of your records and your questions, "
        "in English and Chinese.",
    ),
    S.REVIEW: (
        "Your case summary is being checked",
        "A coordinator has written the summary and its Chinese translation. A second "
        "coordinator checks them, and the pseudonymised case file, before anything is shared.",
    ),
    S.READY: (
        "Your case file is ready",
        "Your case file is prepared and a second coordinator has checked it. It is shared "
        "with a China-side medical team only with your separate consent to sharing.",
    ),
    S.SHARED: (
        "Your case file has been shared",
        "A China-side medical team is reviewing your case file. We will tell you when "
        "their opinion arrives. This can take several weeks.",
    ),
    S.OPINION_RECEIVED: (
        "An opinion has arrived",
        "A coordinator will explain it in plain English and suggest next steps. Please "
        "discuss any change to your treatment with your own clinicians.",
    ),
    S.CLOSED: (
        "Your case is closed",
        "Thank you for using medChina Intake. Your records are kept as described in the "
        "privacy notice.",
    ),
    S.WITHDRAWN: (
        "You withdrew this enquiry",
        "We will not work on this case any further. You can ask us to erase your data "
        "as described in the privacy notice.",
    ),
    S.DECLINED: (
        "We are not able to help with this enquiry",
        "The coordinator's note below explains why. Please keep talking to your own "
        "clinicians, who know your situation best.",
    ),
}


def withdrawn_on_request_text(channel_label: str, day: str) -> tuple[str, str]:
    """What the patient reads when a coordinator withdrew the case at their request."""
    return (
        "Your enquiry was withdrawn at your request",
        f"A coordinator withdrew it on {day} after you asked us {channel_label}. We will not "
        "work on this case any further. You can ask us to erase your data as described in "
        "the privacy notice.",
    )
