"""The portal's progress tracker: each stage of a case, its date, and who we wait for.

Pure: built from the case's status, its status events and two facts, so it is tested
without HTTP and shows the same thing to everyone on the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cases.domain.workflow import Status

S = Status


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    state: str  # "done", "current", "upcoming" or "stopped"
    at: datetime | None = None
    waiting_for: str = ""
    waiting_on: str = ""  # who: "you", "us", "the medical team in China", ...


# The stages a patient sees, in order, and the statuses that belong to each.
_STAGES: list[tuple[str, str, frozenset[Status]]] = [
    ("sent", "Enquiry sent", frozenset({S.SUBMITTED})),
    ("triage", "A coordinator reads your enquiry", frozenset({S.TRIAGE})),
    ("records", "Gathering the records", frozenset({S.AWAITING_RECORDS})),
    ("summary", "Writing the case summary", frozenset({S.DRAFTING})),
    ("review", "Checking the case file", frozenset({S.REVIEW})),
    ("ready", "Ready to share", frozenset({S.READY})),
    ("shared", "With the medical team in China", frozenset({S.SHARED})),
    ("opinion", "The result and next steps", frozenset({S.OPINION_RECEIVED})),
    ("closed", "Case closed", frozenset({S.CLOSED})),
]

US = "us (medChina Intake)"
CHINA_TEAM = "the medical team in China"


def _waiting(status: Status, *, has_sharing_consent: bool, patient_side: str) -> tuple[str, str]:
    """What the case waits for at this status, and from whom."""
    match status:
        case S.SUBMITTED:
            return "a coordinator to read the enquiry, usually within 2 working days", US
        case S.TRIAGE:
            return "a coordinator to work out which records would help most", US
        case S.AWAITING_RECORDS:
            return "the records the coordinator asked for — upload them on the records page", (
                patient_side
            )
        case S.DRAFTING:
            return "the coordinator to write the case summary in English and Chinese", US
        case S.REVIEW:
            return "two coordinators to check the case file and remove identifying details", US
        case S.READY if not has_sharing_consent:
            return "the consent to share a pseudonymised case file with China", patient_side
        case S.READY:
            return "a coordinator to send the pseudonymised case file", US
        case S.SHARED:
            return "their review of the case file", CHINA_TEAM
        case S.OPINION_RECEIVED:
            return "a coordinator to write up the result and the next steps", US
    return "", ""


def case_progress(
    *,
    status: str,
    submitted_at: datetime,
    events: Iterable,
    has_sharing_consent: bool,
    viewer_manages_case: bool,
) -> list[Stage]:
    """Every stage of the case in order, marked done, current or upcoming, with dates.

    ``events`` are the case's status events (``to_status`` and ``at``), oldest first. A
    stage's date is when the case last entered it, since records can be asked for again
    after drafting has begun. A withdrawn or declined case ends with a stopped stage.
    """
    current = Status(status)
    entered: dict[str, datetime] = {}
    for event in events:
        entered[event.to_status] = event.at
    entered.setdefault(S.SUBMITTED, submitted_at)

    stopped = current in {S.WITHDRAWN, S.DECLINED}
    if stopped:
        # Where it stopped: the last status before the withdrawal or decline.
        previous = [e.from_status for e in events if e.to_status == current]
        reached = Status(previous[-1]) if previous and previous[-1] else S.SUBMITTED
    else:
        reached = current
    current_index = next(i for i, (_k, _t, st) in enumerate(_STAGES) if reached in st)
    patient_side = "you" if viewer_manages_case else "the patient or their family"

    stages: list[Stage] = []
    for index, (key, title, statuses) in enumerate(_STAGES):
        at = max((entered[s] for s in statuses if s in entered), default=None)
        if index < current_index or (index == current_index and (stopped or current == S.CLOSED)):
            stages.append(Stage(key, title, "done", at))
        elif index == current_index:
            waiting_for, waiting_on = _waiting(
                current, has_sharing_consent=has_sharing_consent, patient_side=patient_side
            )
            stages.append(Stage(key, title, "current", at, waiting_for, waiting_on))
        elif not stopped:
            stages.append(Stage(key, title, "upcoming"))
    if stopped:
        title = "Enquiry withdrawn" if current == S.WITHDRAWN else "Not taken further"
        stages.append(Stage(str(current), title, "stopped", entered.get(current)))
    return stages
