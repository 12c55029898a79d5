"""Retention: ended cases after the period, refused uploads' files left behind; dry-run first."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from cases.models import AuditEvent, Case, CaseEvent, Record
from cases.models.case import status_change_allowed
from cases.privacy import retention
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


def test_a_refused_upload_keeps_nothing_but_its_hash_and_reason(private_storage, run_on_commit):
    case, _membership = patient_case()
    with run_on_commit():
        refused = records.record_add(
            case=case,
            file=ContentFile(b"MZ not a record", name="setup.exe"),
            category="other",
        ).record
    refused.refresh_from_db()

    assert refused.state == Record.State.REJECTED
    assert not refused.original and files_in(private_storage) == []
    assert refused.sha256 and refused.rejection_reason  # for the uploader and the audit
    erased = AuditEvent.objects.get(action="record.original_erased", target=str(refused.public_id))
    assert erased.detail["reason"] == "refused"
    assert retention.retention_due().refused_records == []


def test_files_left_behind_by_a_refused_upload_are_erased(private_storage, run_on_commit):
    # Uploads refused before refusals deleted their files (or a deletion that failed).
    case, _membership = patient_case()
    left = records.record_add(
        case=case,
        file=ContentFile(b"MZ not a record", name="setup.exe"),
        category="other",
        run_checks=False,
    ).record
    Record.objects.filter(pk=left.pk).update(
        state=Record.State.REJECTED, rejection_reason="Not a document we accept."
    )
    kept = records.record_add(
        case=case,
        file=ContentFile(b"%PDF-1.4 waiting", name="letter.pdf"),
        category="other",
        run_checks=False,
    ).record

    with run_on_commit():
        retention.retention_apply()

    left.refresh_from_db()
    kept.refresh_from_db()
    assert not left.original and left.rejection_reason and left.sha256
    assert kept.original
    assert [p.parent.name for p in files_in(private_storage)] == [str(kept.public_id)]
    assert AuditEvent.objects.filter(
        action="record.original_erased", target=str(left.public_id)
    ).exists()
