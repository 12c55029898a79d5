"""Approving a partner case file: a second person's decision, made against named checks.

Each check is a small function with a name, so another part of the service (the partner
copies' identifier verification, for one) adds its own with ``approval_check`` and the
case-file page lists them all, passed or not, before anyone presses Approve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.access import sharing_consent_active
from cases.audit import audit_log
from cases.casefile.identifiers import identifier_scan
from cases.models import (
    AuditEvent,
    CaseFile,
    SummarySection,
    TextState,
)
from cases.records.redaction.selectors import partner_records, records_awaiting_review

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


class ApprovalRefused(ValidationError):
    """One or more checks failed; ``messages`` says what to do about each."""


@dataclass(frozen=True)
class Approval:
    """What a check may look at: the file, who is approving, and what they stated."""

    case_file: CaseFile
    by: User
    no_records_reason: str = ""


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    passed: bool
    message: str = ""


Check = Callable[[Approval], str]
"""Returns "" when the check passes, else the plain-English reason it does not."""

_CHECKS: list[tuple[str, str, Check]] = []


def approval_check(name: str, label: str) -> Callable[[Check], Check]:
    """Register a check every approval must pass; ``label`` is shown on the page."""

    def register(function: Check) -> Check:
        _CHECKS[:] = [c for c in _CHECKS if c[0] != name]
        _CHECKS.append((name, label, function))
        return function

    return register


@approval_check("ready_partner_file", "A ready partner file")
def _ready_partner_file(approval: Approval) -> str:
    f = approval.case_file
    if f.variant != CaseFile.Variant.PARTNER or f.state != CaseFile.State.READY:
        return "Only a ready partner case file can be approved."
    return ""


@approval_check("newest_version", "The newest version")
def _newest_version(approval: Approval) -> str:
    f = approval.case_file
    newer = (
        CaseFile.objects.filter(case_id=f.case_id, variant=f.variant, version__gt=f.version)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    if newer:
        return (
            f"There is a newer version (v{newer}) of the partner file; approve that one "
            f"instead of v{f.version}."
        )
    return ""


@approval_check("second_person", "Checked by a second coordinator")
def _second_person(approval: Approval) -> str:
    f = approval.case_file
    by_pk = approval.by.pk
    if f.requested_by_id is not None and f.requested_by_id == by_pk:
        return (
            "You asked for this file, so a second coordinator must approve it: release is "
            "a two-person decision."
        )
    editors = set(
        SummarySection.objects.filter(case_id=f.case_id).values_list("updated_by", flat=True)
    )
    if by_pk in editors:
        return (
            "You edited the summary in this file, so a second coordinator must approve it: "
            "release is a two-person decision."
        )
    return ""


def _section_done(section: SummarySection) -> bool:
    return bool(section.not_needed_reason.strip()) or (
        section.state_en == TextState.REVIEWED and section.state_zh == TextState.REVIEWED
    )


@approval_check("sections_reviewed", "Every section reviewed in English and Chinese")
def _sections_reviewed(approval: Approval) -> str:
    sections = {s.key: s for s in SummarySection.objects.filter(case_id=approval.case_file.case_id)}
    problems = []
    for key in SummarySection.Key:
        section = sections.get(key)
        if section is None:
            problems.append(f"{key.label} (not started)")
        elif not _section_done(section):
            states = []
            if section.state_en != TextState.REVIEWED:
                states.append(f"English {section.get_state_en_display().lower()}")
            if section.state_zh != TextState.REVIEWED:
                states.append(f"Chinese {section.get_state_zh_display().lower()}")
            problems.append(f"{key.label} ({', '.join(states)})")
    if problems:
        return (
            "Every printed section must be reviewed in English and Chinese, or marked not "
            "needed with a reason: " + "; ".join(problems) + "."
        )
    return ""


@approval_check("summary_unchanged", "The summary has not changed since the file was made")
def _summary_unchanged(approval: Approval) -> str:
    changed = approval.case_file.summary_change_since_made()
    if changed:
        return (
            f"The summary ({changed.get_key_display()}) changed after this file was made; "
            "regenerate the partner file and approve the new version."
        )
    return ""


@approval_check("records_or_reason", "At least one record, or a reason there are none")
def _records_or_reason(approval: Approval) -> str:
    # The file holds the approved partner copies of the case's records; a file made
    # before any record was ready has no record pages even if records came later.
    included = bool(partner_records(approval.case_file.case)) and approval.case_file.page_count
    if not included and not approval.no_records_reason.strip():
        return (
            "This partner file has no records in it. Add and approve the records first, or "
            "say why the file should go without records."
        )
    return ""


@approval_check("sharing_consent", "The patient's consent to share is in force")
def _sharing_consent(approval: Approval) -> str:
    # Checked again here: consent may have been withdrawn after the file was made.
    if not sharing_consent_active(approval.case_file.case):
        return (
            "The patient has not given consent to share a case file with China-side "
            "reviewers (or has withdrawn it). Ask them to give it on their case page first."
        )
    return ""


@approval_check("records_reviewed", "Every record's redaction reviewed and approved")
def _records_reviewed(approval: Approval) -> str:
    waiting = records_awaiting_review(approval.case_file.case)
    if waiting:
        return (
            f"{len(waiting)} record(s) still need their redaction reviewed and approved "
            "(or changed since it was); approve them, then regenerate."
        )
    return ""


@approval_check("verified", "The finished file verified free of identifiers")
def _verified(approval: Approval) -> str:
    f = approval.case_file
    if f.verified_at is None:
        return "This partner file has not been verified; regenerate it."
    if f.verification:
        first = f.verification[0]
        return (
            f"The verification found {len(f.verification)} identifier(s) in this file, for "
            f"example on page {first['page']}: {first['kind']} “{first['text']}”. Fix the "
            "redaction or the text, then regenerate."
        )
    return ""


@approval_check("no_unresolved_identifiers", "No unresolved identifiers")
def _no_unresolved_identifiers(approval: Approval) -> str:
    hits = identifier_scan(approval.case_file.case)
    if hits:
        return (
            f"{len(hits)} possible identifier(s) are unresolved (for example a {hits[0].kind} "
            f"in {hits[0].section}); remove them or mark them acceptable, then regenerate."
        )
    return ""


def approval_checks(
    *, case_file: CaseFile, by: User, no_records_reason: str = ""
) -> list[CheckResult]:
    """Every check, passed or not, in the order they were registered."""
    approval = Approval(case_file=case_file, by=by, no_records_reason=no_records_reason)
    results = []
    for name, label, check in _CHECKS:
        problem = check(approval)
        results.append(CheckResult(name=name, label=label, passed=not problem, message=problem))
    return results


def case_file_approve(
    *,
    case_file: CaseFile,
    by: User,
    no_records_reason: str = "",
    request: HttpRequest | None = None,
) -> CaseFile:
    """Approve a partner file for sharing if every check passes; refuse with all reasons.

    The row is locked and re-read, so of two people approving at once the second is told
    who was first instead of approving again.
    """
    with transaction.atomic():
        locked = CaseFile.objects.select_for_update().select_related("case").get(pk=case_file.pk)
        if locked.approved_at is not None:
            raise ApprovalRefused(
                f"This file was already approved by {locked.approved_by} at "
                f"{timezone.localtime(locked.approved_at):%H:%M}."
            )
        failed = [
            r
            for r in approval_checks(case_file=locked, by=by, no_records_reason=no_records_reason)
            if not r.passed
        ]
        if failed:
            raise ApprovalRefused([r.message for r in failed])
        locked.approved_by = by
        locked.approved_at = timezone.now()
        locked.approval_note = no_records_reason.strip()
        locked.save(update_fields=["approved_by", "approved_at", "approval_note"])
        audit_log(
            action=AuditEvent.Action.CASE_FILE_APPROVED,
            actor=by,
            case=locked.case,
            target=str(locked.public_id),
            request=request,
            version=locked.version,
        )
    case_file.approved_by, case_file.approved_at = locked.approved_by, locked.approved_at
    case_file.approval_note = locked.approval_note
    return locked
