"""Release is a two-person decision: who may approve a partner file, and what it needs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from cases import services, transitions
from cases.casefile import approval
from cases.domain.consents import ConsentKind
from cases.domain.workflow import Status
from cases.models import (
    AuditEvent,
    CaseFile,
    PartnerCopy,
    Record,
    RecordCategory,
    SummarySection,
    TextState,
)
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


def _reviewed_case(*, author, status=Status.REVIEW):
    """A case whose summary is reviewed in both languages, one record checked, consented."""
    case, membership = patient_case(status=status)
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    for key in SummarySection.Key:
        SummarySection.objects.create(
            case=case,
            key=key,
            text_en=f"{key} in English",
            text_zh=f"{key} 中文",
            state_en=TextState.REVIEWED,
            state_zh=TextState.REVIEWED,
            updated_by=author,
        )
    record = Record.objects.create(
        case=case,
        category=RecordCategory.PATHOLOGY,
        original_name="path.pdf",
        original=ContentFile(b"%PDF-1.4", name="path.pdf"),
        size=8,
        sha256="a" * 64,
        state=Record.State.READY,
    )
    # Its redaction reviewed and approved (tests/cases/records covers how).
    PartnerCopy.objects.create(
        record=record,
        state=PartnerCopy.State.APPROVED,
        file=ContentFile(b"%PDF-1.4", name="partner-copy.pdf"),
        source_sha256=record.sha256,
        approved_sha256=record.sha256,
    )
    return case


def _partner_file(case, *, by, version: int = 1, state=CaseFile.State.READY) -> CaseFile:
    return CaseFile.objects.create(
        case=case,
        variant=CaseFile.Variant.PARTNER,
        version=version,
        state=state,
        requested_by=by,
        finished_at=timezone.now(),
        page_count=3,
        verified_at=timezone.now(),  # the worker's independent check found nothing
    )


@pytest.fixture
def first():
    return staff_in("coordinator", username="first")


@pytest.fixture
def second():
    return staff_in("coordinator", username="second")


def test_a_second_coordinator_approves_a_complete_file(first, second):
    case = _reviewed_case(author=first)
    case_file = _partner_file(case, by=first)

    approval.case_file_approve(case_file=case_file, by=second)

    case_file.refresh_from_db()
    assert case_file.approved_by == second
    assert AuditEvent.objects.filter(
        case=case, action=AuditEvent.Action.CASE_FILE_APPROVED, actor=second
    ).exists()


def test_whoever_asked_for_the_file_cannot_approve_it(first, second):
    case = _reviewed_case(author=second)
    case_file = _partner_file(case, by=first)

    with pytest.raises(approval.ApprovalRefused, match="second coordinator"):
        approval.case_file_approve(case_file=case_file, by=first)

    case_file.refresh_from_db()
    assert case_file.approved_at is None


def test_whoever_last_edited_the_summary_cannot_approve_it(first, second):
    case = _reviewed_case(author=second)
    SummarySection.objects.filter(case=case, key="background").update(updated_by=first)
    case_file = _partner_file(case, by=second)

    with pytest.raises(approval.ApprovalRefused, match="edited the summary"):
        approval.case_file_approve(case_file=case_file, by=first)


def test_every_printed_section_must_be_reviewed_in_both_languages(first, second):
    case = _reviewed_case(author=first)
    SummarySection.objects.filter(case=case, key="timeline").update(state_zh=TextState.DRAFT)
    SummarySection.objects.filter(case=case, key="goal").delete()
    case_file = _partner_file(case, by=first)

    with pytest.raises(approval.ApprovalRefused) as refused:
        approval.case_file_approve(case_file=case_file, by=second)

    text = " ".join(refused.value.messages)
    assert "Timeline" in text
    assert "The patient's goal" in text
    case_file.refresh_from_db()
    assert case_file.approved_at is None


def test_a_section_marked_not_needed_with_a_reason_does_not_block(first, second):
    case = _reviewed_case(author=first)
    SummarySection.objects.filter(case=case, key="records_missing").update(
        state_zh=TextState.DRAFT, not_needed_reason="Every record is on the case."
    )
    case_file = _partner_file(case, by=first)

    approval.case_file_approve(case_file=case_file, by=second)


def test_a_chinese_section_that_needs_an_update_blocks_approval(first, second):
    case = _reviewed_case(author=first)
    SummarySection.objects.filter(case=case, key="background").update(
        state_zh=TextState.NEEDS_UPDATE
    )
    case_file = _partner_file(case, by=first)

    with pytest.raises(approval.ApprovalRefused, match="Background"):
        approval.case_file_approve(case_file=case_file, by=second)


def test_an_older_version_cannot_be_approved(first, second):
    case = _reviewed_case(author=first)
    older = _partner_file(case, by=first, version=1)
    _partner_file(case, by=first, version=2)

    with pytest.raises(approval.ApprovalRefused, match="newer version"):
        approval.case_file_approve(case_file=older, by=second)


def test_two_people_approving_at_once_approve_once(first, second):
    third = staff_in("coordinator", username="third")
    case = _reviewed_case(author=first)
    case_file = _partner_file(case, by=first)
    # Both pages were loaded before either approved: each holds an unapproved row.
    seen_by_second = CaseFile.objects.get(pk=case_file.pk)
    seen_by_third = CaseFile.objects.get(pk=case_file.pk)

    approval.case_file_approve(case_file=seen_by_second, by=second)
    with pytest.raises(approval.ApprovalRefused, match="already approved by second"):
        approval.case_file_approve(case_file=seen_by_third, by=third)

    case_file.refresh_from_db()
    assert case_file.approved_by == second
    assert (
        AuditEvent.objects.filter(case=case, action=AuditEvent.Action.CASE_FILE_APPROVED).count()
        == 1
    )


def test_a_file_without_records_needs_a_stated_reason(first, second):
    case = _reviewed_case(author=first)
    case.records.all().delete()
    case_file = _partner_file(case, by=first)

    with pytest.raises(approval.ApprovalRefused, match="no records"):
        approval.case_file_approve(case_file=case_file, by=second)

    approval.case_file_approve(
        case_file=case_file,
        by=second,
        no_records_reason="The question is about a scan report "
        "the patient will bring; the reviewers asked for the summary first.",
    )
    case_file.refresh_from_db()
    assert case_file.approval_note.startswith("The question")


def test_unresolved_identifiers_block_approval(first, second):
    case = _reviewed_case(author=first)
    SummarySection.objects.filter(case=case, key="background").update(
        text_en=f"Seen by {case.patient_name.split()[0]} at the clinic."
    )
    case_file = _partner_file(case, by=first)

    with pytest.raises(approval.ApprovalRefused, match="identifier"):
        approval.case_file_approve(case_file=case_file, by=second)


def test_the_checks_are_named_so_others_can_add_to_them(first, second):
    case = _reviewed_case(author=first)
    case_file = _partner_file(case, by=first)

    results = approval.approval_checks(case_file=case_file, by=first)

    names = {result.name: result.passed for result in results}
    assert names["second_person"] is False
    assert names["sections_reviewed"] is True
    assert {"newest_version", "records_or_reason", "no_unresolved_identifiers"} <= set(names)


def test_ready_needs_the_newest_partner_file_approved(first, second):
    case = _reviewed_case(author=first)
    approved = _partner_file(case, by=first, version=1)
    approval.case_file_approve(case_file=approved, by=second)
    _partner_file(case, by=first, version=2, state=CaseFile.State.QUEUED)

    with pytest.raises(transitions.TransitionNotAllowed, match="newest partner case file"):
        transitions.case_transition(
            case=case, to=Status.READY, actor=second, expected=Status.REVIEW
        )

    CaseFile.objects.filter(case=case, version=2).delete()
    transitions.case_transition(case=case, to=Status.READY, actor=second, expected=Status.REVIEW)
    case.refresh_from_db()
    assert case.status == Status.READY


def test_ready_is_refused_when_the_summary_changed_after_the_approved_file_was_made(first, second):
    # A translator changed the Chinese after approval; the case still went to Ready with
    # the old file, so the reviewers would have read what nobody approved.
    from cases.summary.services import SectionEdit, summary_section_save

    case = _reviewed_case(author=first)
    made = _partner_file(case, by=first)
    CaseFile.objects.filter(pk=made.pk).update(started_at=timezone.now())
    approval.case_file_approve(case_file=made, by=second)
    section = SummarySection.objects.get(case=case, key=SummarySection.Key.BACKGROUND)
    summary_section_save(
        section=section,
        edit=SectionEdit(
            section.text_en, section.state_en, "改过的背景", "reviewed", section.version
        ),
        by=staff_in("translator"),
    )

    with pytest.raises(transitions.TransitionNotAllowed, match="summary changed after"):
        transitions.case_transition(
            case=case, to=Status.READY, actor=second, expected=Status.REVIEW
        )
    case.refresh_from_db()
    assert case.status == Status.REVIEW


def test_the_approve_button_refuses_the_same_person_on_the_page(first, second, staff_login):
    case = _reviewed_case(author=first)
    case.assigned_coordinator = first
    case.save(update_fields=["assigned_coordinator"])
    case_file = _partner_file(case, by=first)
    url = f"/admin/cases/case/{case.pk}/case-files/"

    refused = staff_login(first).post(
        url, {"action": "approve", "case_file": case_file.public_id}, follow=True
    )

    assert "second coordinator" in refused.text
    case_file.refresh_from_db()
    assert case_file.approved_at is None


def test_the_page_offers_approval_only_to_a_second_person(first, second, staff_login):
    case = _reviewed_case(author=first)
    case_file = _partner_file(case, by=first)
    url = f"/admin/cases/case/{case.pk}/case-files/"
    button = f"Approve partner file v{case_file.version}</button>"

    own = staff_login(first).get(url).text
    assert button not in own
    assert "You asked for this file" in own and "Ask another coordinator" in own
    assert button in staff_login(second).get(url).text


def test_the_approval_line_ends_with_one_full_stop(first, second, staff_login):
    case = _reviewed_case(author=first)
    Record.objects.filter(case=case).update(cleared_for_partner=False)
    case_file = _partner_file(case, by=first)
    approval.case_file_approve(
        case_file=case_file, by=second, no_records_reason="The patient has none yet."
    )

    page = staff_login(second).get(f"/admin/cases/case/{case.pk}/case-files/")

    assert page.status_code == 200
    assert ".." not in page.text.replace("...", "")
    assert "Sent without records because: “The patient has none yet.”" in page.text


def test_a_summary_text_fixed_on_the_case_files_page_is_a_summary_edit(first, second, staff_login):
    case = _reviewed_case(author=first)
    background = SummarySection.objects.get(case=case, key="background")
    case_file = _partner_file(case, by=first)
    url = f"/admin/cases/case/{case.pk}/case-files/"

    page = staff_login(second).post(
        url,
        {
            "action": "edit-text",
            "source": f"summary:{background.pk}:text_en",
            "text": "Treated at a hospital in the north of England.",
        },
        follow=True,
    )

    assert "The text is saved." in page.text
    edited = SummarySection.objects.get(pk=background.pk)
    assert edited.text_en == "Treated at a hospital in the north of England."
    assert edited.version == background.version + 1
    assert edited.updated_by == second
    assert edited.state_zh == TextState.NEEDS_UPDATE  # its Chinese said the old English
    latest = edited.history.order_by("-history_date").first()
    assert latest.history_user == second and latest.text_en == edited.text_en
    assert AuditEvent.objects.filter(
        case=case, action=AuditEvent.Action.SUMMARY_EDITED, actor=second
    ).exists()
    results = {r.name: r for r in approval.approval_checks(case_file=case_file, by=second)}
    assert not results["second_person"].passed
    assert "edited the summary" in results["second_person"].message
    assert not results["sections_reviewed"].passed
    assert "Chinese needs update" in results["sections_reviewed"].message.replace("“", "")


def test_a_chinese_summary_text_fixed_on_the_case_files_page_keeps_the_english(
    first, second, staff_login
):
    case = _reviewed_case(author=first)
    background = SummarySection.objects.get(case=case, key="background")
    url = f"/admin/cases/case/{case.pk}/case-files/"

    staff_login(second).post(
        url,
        {"action": "edit-text", "source": f"summary:{background.pk}:text_zh", "text": "英国北部"},
    )

    edited = SummarySection.objects.get(pk=background.pk)
    assert (edited.text_zh, edited.text_en) == ("英国北部", background.text_en)
    assert edited.version == background.version + 1 and edited.updated_by == second
    assert edited.history.filter(history_user=second).exists()


def test_the_identifier_fix_refuses_a_summary_section(first):
    from cases.casefile.identifiers import identifier_fix

    case = _reviewed_case(author=first)
    background = SummarySection.objects.get(case=case, key="background")

    with pytest.raises(ValidationError, match="through the summary"):
        identifier_fix(case=case, source=f"summary:{background.pk}:text_en", text="x", by=first)
    assert SummarySection.objects.get(pk=background.pk).text_en == background.text_en


def test_before_review_the_page_says_to_move_the_case_to_review_first(first, second, staff_login):
    case = _reviewed_case(author=first, status=Status.DRAFTING)
    case.assigned_coordinator = first
    case.save(update_fields=["assigned_coordinator"])
    _partner_file(case, by=first)
    url = f"/admin/cases/case/{case.pk}/case-files/"

    own = staff_login(first).get(url).text

    assert "Move the case to Review first: then any other coordinator can open it" in own
    assert "Ask another coordinator" not in own
    # That is why: until Review, the second coordinator cannot open the page at all.
    assert staff_login(second).get(url).status_code == 404
    transitions.case_transition(case=case, to=Status.REVIEW, actor=first, expected=Status.DRAFTING)
    assert "Ask another coordinator to open this page" in staff_login(first).get(url).text
    assert staff_login(second).get(url).status_code == 200
