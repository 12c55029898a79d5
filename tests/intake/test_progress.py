"""The portal's progress tracker."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from cases.domain.workflow import Status
from cases.transitions import case_transition
from intake.progress import case_progress
from tests.factories import patient_case

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Event:
    from_status: str
    to_status: str
    at: datetime


def _events(*statuses: str) -> list[Event]:
    events, previous = [], "submitted"
    for day, status in enumerate(statuses, start=1):
        events.append(Event(previous, status, START + timedelta(days=day)))
        previous = status
    return events


def _progress(status, events, *, consent=False, manages=True):
    return case_progress(
        status=status,
        submitted_at=START,
        events=events,
        has_sharing_consent=consent,
        viewer_manages_case=manages,
    )


def test_a_new_case_waits_for_us():
    stages = _progress("submitted", [])
    assert [s.state for s in stages][:2] == ["current", "upcoming"]
    assert stages[0].at == START
    assert stages[0].waiting_on.startswith("us")
    assert len(stages) == 9


def test_a_request_for_records_waits_for_the_patient_with_dates_so_far():
    stages = _progress("awaiting_records", _events("triage", "awaiting_records"))
    by_key = {s.key: s for s in stages}
    assert by_key["sent"].state == by_key["triage"].state == "done"
    assert by_key["triage"].at == START + timedelta(days=1)
    assert by_key["records"].state == "current"
    assert by_key["records"].at == START + timedelta(days=2)
    assert by_key["records"].waiting_on == "you"
    assert by_key["summary"].state == "upcoming" and by_key["summary"].at is None


def test_a_helper_reads_that_we_wait_for_the_patient():
    stages = _progress("awaiting_records", _events("triage", "awaiting_records"), manages=False)
    assert stages[2].waiting_on == "the patient or their family"


@pytest.mark.parametrize(("consent", "who"), [(False, "you"), (True, "us (medChina Intake)")])
def test_a_ready_case_waits_for_the_sharing_consent_or_for_us(consent, who):
    events = _events("triage", "drafting", "review", "ready")
    current = next(s for s in _progress("ready", events, consent=consent) if s.state == "current")
    assert current.waiting_on == who


def test_a_shared_case_waits_for_the_team_in_china():
    events = _events("triage", "drafting", "review", "ready", "shared")
    current = next(s for s in _progress("shared", events, consent=True) if s.state == "current")
    assert current.waiting_on == "the medical team in China"


def test_a_withdrawn_case_stops_where_it_was():
    stages = _progress("withdrawn", _events("triage", "withdrawn"))
    assert [s.key for s in stages] == ["sent", "triage", "withdrawn"]
    assert stages[-1].state == "stopped" and stages[-1].at == START + timedelta(days=2)


@pytest.mark.django_db
def test_the_case_page_shows_the_tracker(client):
    case, membership = patient_case()
    case_transition(case=case, to=Status.TRIAGE, actor=None)
    client.force_login(membership.user)
    text = client.get(f"/my/cases/{case.reference}/").text
    assert 'aria-current="step"' in text
    assert "A coordinator reads your enquiry" in text
    assert "Waiting for <strong>us (medChina Intake)</strong>" in text
