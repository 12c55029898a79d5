"""Retention: ended cases after the period, refused originals after 30 days; dry-run first."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from cases.models import AuditEvent, Case, CaseEvent, Record
from cases.models.case import status_change_allowed
from cases.privacy import retention
from cases.records import processing
from cases.records import services as records
from tests.factories import patient_case
from tests.privacy.support import files_in, full_case

pytestmark = pytest.mark.django_db


def _ended(case, status: str, days_ago: int) -> None:
    with status_change_allowed():  # test set-up: the case as the workflow left it
        Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    CaseEvent.objects.create(
        case=case,
        from_status="triage",
        to_status=status,
        at=timezone.now() - timedelta(days=days_ago),
    )


def test_cases_are_due_two_years_after_they_ended_and_open_ones_never():
    old_closed, _ = full_case()
    _ended(old_closed, "closed", 731)
    old_declined, _ = patient_case()
    _ended(old_declined, "declined", 800)
    recent, _ = patient_case()
    _ended(recent, "withdrawn", 700)
    open_case, _ = patient_case(submitted_at=timezone.now() - timedelta(days=2000))

    due = retention.retention_due()

    assert {ref for ref, _ in due.cases} == {old_closed.pk, old_declined.pk}
    assert recent.pk not in str(due.lines())
    assert open_case.pk not in str(due.lines())


def test_the_period_is_configurable(settings):
    case, _ = patient_case()
    _ended(case, "closed", 100)
    settings.MEDCHINA_RETENTION_DAYS = 90
    assert [ref for ref, _ in retention.retention_due().cases] == [case.pk]


def test_the_dry_run_lists_and_erases_nothing(capsys, private_storage):
    case, _ = full_case()
    _ended(case, "closed", 1000)
    before = files_in(private_storage)

    call_command("apply_retention", "--dry-run")

    out = capsys.readouterr().out
    assert "Dry run" in out
    assert case.pk in out
    assert Case.objects.filter(pk=case.pk).exists()
    assert files_in(private_storage) == before


def test_applying_erases_due_cases_with_their_files(capsys, private_storage, run_on_commit):
    case, _ = full_case()
    _ended(case, "closed", 1000)
    keep, _ = full_case(contact_email="kept@example.org")

    with run_on_commit():
        call_command("apply_retention")

    assert not Case.objects.filter(pk=case.pk).exists()
    assert Case.objects.filter(pk=keep.pk).exists()
    tombstone = AuditEvent.objects.get(action="case.erased", case_id=case.pk)
    assert tombstone.detail["reason"] == "retention"
    assert all(str(r.public_id) in str(files_in(private_storage)) for r in keep.records.all())


def test_refused_originals_are_erased_after_30_days(private_storage, run_on_commit):
    case, _membership = patient_case()
    refused = records.record_add(
        case=case,
        file=ContentFile(b"MZ not a record", name="setup.exe"),
        category="other",
        run_checks=False,
    ).record
    processing.record_process(record_id=refused.pk)
    refused.refresh_from_db()
    assert refused.state == Record.State.REJECTED
    fresh = records.record_add(
        case=case,
        file=ContentFile(b"MZ another one", name="other.exe"),
        category="other",
        run_checks=False,
    ).record
    processing.record_process(record_id=fresh.pk)
    Record.objects.filter(pk=refused.pk).update(checked_at=timezone.now() - timedelta(days=31))

    with run_on_commit():
        retention.retention_apply()

    refused.refresh_from_db()
    fresh.refresh_from_db()
    assert not refused.original
    assert refused.rejection_reason  # the reason stays for the uploader and the audit
    assert fresh.original
    assert [p.parent.name for p in files_in(private_storage)] == [str(fresh.public_id)]
    assert AuditEvent.objects.filter(
        action="record.original_erased", target=str(refused.public_id)
    ).exists()
