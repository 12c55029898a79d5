import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import workspace
from cases.domain.workflow import Status
from cases.models import (
    CaseDirection,
    CaseOutcome,
    MedicalDirection,
    Notification,
    RecordRequest,
    SummarySection,
)
from cases.records.services import record_add
from cases.summary.services import SectionEdit, summary_draft, summary_section_save
from tests.factories import CaseFactory, StaffFactory, patient_case, staff_in
from tests.records_support import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    return staff_in("coordinator", username="coord")


@pytest.fixture
def coord_client(coordinator, staff_login):
    return staff_login(coordinator)


def _change_url(case) -> str:
    return f"/admin/cases/case/{case.pk}/change/"


# --- Second factor ------------------------------------------------------------------------


def test_the_admin_needs_the_second_factor(client, coordinator):
    client.force_login(coordinator)  # password only, no verified device
    response = client.get("/admin/cases/case/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_staff_member_signs_in_with_password_and_totp(client, coordinator):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    page = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "coord",
            "password": "a-long-test-password-123",
            "otp_device": device.persistent_id,
            "otp_token": f"{totp(device.bin_key):06d}",
        },
    )
    assert page.status_code == 302
    assert client.get("/admin/cases/case/?assigned=all").status_code == 200


def test_staff_logins_lock_after_repeated_failures(client, coordinator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "coord", "password": "wrong", "otp_token": "1"})
    locked = client.post(
        "/admin/login/", {"username": "coord", "password": "a-long-test-password-123"}
    )
    assert locked.status_code == 429


# --- The queue ----------------------------------------------------------------------------


def test_the_queue_defaults_to_my_cases(coord_client, coordinator):
    mine = CaseFactory(assigned_coordinator=coordinator)
    theirs = CaseFactory(assigned_coordinator=StaffFactory())
    response = coord_client.get("/admin/cases/case/")
    assert response["Location"] == "/admin/cases/case/?assigned=me"
    page = coord_client.get("/admin/cases/case/?assigned=me")
    assert mine.reference in page.text and theirs.reference not in page.text
    unassigned = CaseFactory()
    everyone = coord_client.get("/admin/cases/case/?assigned=all")
    # A coordinator sees their own cases and unassigned ones; a manager sees every case.
    assert unassigned.reference in everyone.text and theirs.reference not in everyone.text
    # Someone else's case is not found, exactly like a case that does not exist.
    assert coord_client.get(f"/admin/cases/case/{theirs.pk}/change/").status_code == 404


def test_a_manager_sees_every_case(staff_login):
    theirs = CaseFactory(assigned_coordinator=StaffFactory())
    client = staff_login(staff_in("manager"))
    assert theirs.reference in client.get("/admin/cases/case/?assigned=all").text
    assert client.get(f"/admin/cases/case/{theirs.pk}/change/").status_code == 200


def test_a_coordinator_takes_an_unassigned_case_but_cannot_hand_cases_out(coordinator):
    from django.core.exceptions import PermissionDenied

    case = CaseFactory()
    workspace.case_assign(case=case, coordinator=coordinator, by=coordinator)
    case.refresh_from_db()
    assert case.assigned_coordinator == coordinator
    other = staff_in("coordinator")
    with pytest.raises(PermissionDenied):
        workspace.case_assign(case=case, coordinator=other, by=coordinator)
    theirs = CaseFactory(assigned_coordinator=other)
    with pytest.raises(PermissionDenied):
        workspace.case_assign(case=theirs, coordinator=coordinator, by=coordinator)


def test_opening_a_case_in_the_admin_is_audited(coord_client, coordinator):
    from cases.models import AuditEvent

    case = CaseFactory(assigned_coordinator=coordinator)
    coord_client.get(_change_url(case))
    coord_client.get(f"/admin/cases/case/{case.pk}/summary/")
    targets = set(
        AuditEvent.objects.filter(case=case, action="case.viewed").values_list("target", flat=True)
    )
    assert {"case", "summary"} <= targets


def test_the_queue_shows_initials_completeness_and_close_deadlines(coord_client, coordinator):
    from datetime import date, timedelta

    case = CaseFactory(
        assigned_coordinator=coordinator,
        patient_name="Ada Byron King",
        decision_deadline=date.today() + timedelta(days=3),
    )
    record_add(
        case=case,
        file=ContentFile(pdf_bytes(marker="p"), name="p.pdf"),
        category="pathology",
        run_checks=False,
    )
    page = coord_client.get("/admin/cases/case/?assigned=me")
    assert "ABK" in page.text
    assert "Ada Byron King" not in page.text
    assert '<td class="field-completeness">1/4</td>' in page.text
    assert "(soon)" in page.text
    assert "<h1>Cases</h1>" in page.text


def test_initials_skip_brackets_around_a_name_in_another_script():
    case = CaseFactory.build(patient_name="陈伟 (Chen Wei)")
    assert case.patient_initials == "陈CW"


def test_the_queue_searches_and_filters(coord_client, coordinator):
    found = CaseFactory(assigned_coordinator=coordinator, patient_name="Zebedee Quill")
    CaseFactory(assigned_coordinator=coordinator, patient_name="Other Person")
    by_name = coord_client.get("/admin/cases/case/?assigned=all&q=Zebedee")
    assert found.reference in by_name.text and "1 result" in by_name.text
    by_ref = coord_client.get(f"/admin/cases/case/?assigned=all&q={found.reference}")
    assert found.reference in by_ref.text
    incomplete = coord_client.get("/admin/cases/case/?assigned=all&attention=incomplete")
    assert found.reference in incomplete.text


def _queue_queries(client, count: int, coordinator) -> tuple[int, CaptureQueriesContext]:
    for n in range(count):
        case = CaseFactory(assigned_coordinator=coordinator)
        if n % 3 == 0:
            record_add(
                case=case,
                file=ContentFile(pdf_bytes(marker=str(n)), name="x.pdf"),
                category="lab",
                run_checks=False,
            )
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/cases/case/?assigned=me")
    assert response.status_code == 200
    return len(queries), queries


def test_the_queue_costs_the_same_queries_for_5_or_200_cases(coord_client, coordinator):
    small, _ = _queue_queries(coord_client, 5, coordinator)
    from cases.models import Case, Record

    Record.objects.all().delete()
    Case.objects.all().delete()
    large, queries = _queue_queries(coord_client, 200, coordinator)
    assert small == large, [q["sql"][:120] for q in queries]
    unfiltered = [
        q["sql"]
        for q in queries
        if "COUNT(*)" in q["sql"] and "cases_case" in q["sql"] and "WHERE" not in q["sql"]
    ]
    assert unfiltered == []


# --- Transitions ----------------------------------------------------------------------------


def test_a_coordinator_moves_a_case_with_a_note(coord_client, coordinator):
    case, _ = patient_case(assigned_coordinator=coordinator)
    page = coord_client.get(_change_url(case))
    assert 'value="triage"' in page.text and 'value="closed"' not in page.text
    coord_client.post(
        f"/admin/cases/case/{case.pk}/transition/",
        {"to": "triage", "note": "Looks suitable", "expected": "submitted"},
    )
    case.refresh_from_db()
    assert case.status == Status.TRIAGE
    assert case.events.get().note == "Looks suitable"


def test_a_refused_transition_changes_nothing(coord_client, coordinator):
    case, _ = patient_case(assigned_coordinator=coordinator)
    response = coord_client.post(
        f"/admin/cases/case/{case.pk}/transition/",
        {"to": "shared", "expected": "submitted"},
        follow=True,
    )
    assert "cannot move to shared" in response.text
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


def test_declining_needs_a_reason_which_the_patient_reads(coord_client, coordinator, client):
    case, membership = patient_case(assigned_coordinator=coordinator)
    refused = coord_client.post(
        f"/admin/cases/case/{case.pk}/transition/",
        {"to": "declined", "expected": "submitted", "confirm": "yes"},
        follow=True,
    )
    assert "needs a reason" in refused.text
    coord_client.post(
        f"/admin/cases/case/{case.pk}/transition/",
        {
            "to": "declined",
            "expected": "submitted",
            "confirm": "yes",
            "note": "Your question is best answered by your own oncologist.",
        },
    )
    client.force_login(membership.user)
    portal = client.get(f"/my/cases/{case.reference}/")
    assert "We are not able to help with this enquiry" in portal.text
    assert "best answered by your own oncologist" in portal.text


def test_markup_in_patient_text_is_escaped_in_the_admin(coord_client, coordinator):
    case, _ = patient_case(
        assigned_coordinator=coordinator, diagnosis="<script>alert('x')</script>"
    )
    page = coord_client.get(_change_url(case))
    assert "<script>alert('x')</script>" not in page.text
    assert "&lt;script&gt;" in page.text


# --- Record requests -------------------------------------------------------------------------


def test_requesting_records_emails_a_link_and_shows_in_the_portal(
    coord_client, coordinator, client, mailoutbox, run_on_commit
):
    case, membership = patient_case(assigned_coordinator=coordinator, status=Status.TRIAGE)
    form = coord_client.get(f"/admin/cases/case/{case.pk}/request-records/")
    assert "Pathology or biopsy report" in form.text  # pre-filled from the checklist
    with run_on_commit():
        coord_client.post(
            f"/admin/cases/case/{case.pk}/request-records/",
            {"categories": ["pathology"], "message": "Please send the biopsy report."},
        )
    case.refresh_from_db()
    assert case.status == Status.AWAITING_RECORDS
    assert RecordRequest.objects.get(case=case).categories == ["pathology"]
    (mail,) = [m for m in mailoutbox if "more records" in m.subject]
    assert "biopsy" not in mail.body and case.diagnosis not in mail.body
    client.force_login(membership.user)
    portal = client.get(f"/my/cases/{case.reference}/")
    assert "Please send the biopsy report." in portal.text

    with run_on_commit():
        record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker="biopsy"), name="b.pdf"),
            category="pathology",
            uploaded_by=membership.user,
        )
    case.refresh_from_db()
    assert case.status == Status.TRIAGE
    assert RecordRequest.objects.get(case=case).answered_at is not None


# --- Summary ---------------------------------------------------------------------------------


def _case_with_dated_records():
    case, membership = patient_case(status=Status.DRAFTING)
    for marker, category, day, text in [
        ("b", "imaging_report", "2026-03-01", "CT chest"),
        ("a", "pathology", "2026-01-15", "Biopsy"),
    ]:
        record = record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker=marker), name=f"{marker}.pdf"),
            category=category,
            document_date=__import__("datetime").date.fromisoformat(day),
            description=text,
            run_checks=False,
        ).record
        assert record is not None
    return case, membership


def test_drafting_fills_sections_with_a_timeline_from_document_dates(coord_client):
    case, _ = _case_with_dated_records()
    coord_client.post(f"/admin/cases/case/{case.pk}/summary/", {"action": "draft"})
    sections = {s.key: s for s in SummarySection.objects.filter(case=case)}
    assert len(sections) == 7
    timeline = sections["timeline"].text_en.splitlines()
    assert timeline == [
        "2026-01-15 — Pathology or biopsy report: Biopsy",
        "2026-03-01 — Imaging report: CT chest",
    ]
    assert "病理或活检报告" in sections["timeline"].text_zh
    assert sections["questions"].text_en == "1. Is immunotherapy an option?"
    assert "Treatment history" in sections["records_missing"].text_en
    assert sections["background"].state_zh == "not_started"


def test_drafting_again_keeps_what_a_coordinator_wrote(coordinator):
    case, _ = _case_with_dated_records()
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="background")
    summary_section_save(
        section=section,
        edit=SectionEdit("Edited by hand", "reviewed", "", "not_started", section.version),
        by=coordinator,
    )
    summary_draft(case=case, by=coordinator)
    assert SummarySection.objects.get(case=case, key="background").text_en == "Edited by hand"


def test_a_second_editor_is_told_and_loses_nothing(coord_client, coordinator):
    case, _ = _case_with_dated_records()
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="current_concern")
    opened_at = section.version
    other = staff_in("coordinator")
    summary_section_save(
        section=section,
        edit=SectionEdit("First editor's text", "draft", "", "not_started", opened_at),
        by=other,
    )
    response = coord_client.post(
        f"/admin/cases/case/{case.pk}/summary/",
        {
            "save": "current_concern",
            "current_concern-base_version": opened_at,
            "current_concern-text_en": "Second editor's text",
            "current_concern-state_en": "draft",
            "current_concern-text_zh": "",
            "current_concern-state_zh": "not_started",
        },
        follow=True,
    )
    assert "Someone else saved a section while you were editing" in response.text
    assert "Second editor&#x27;s text" in response.text  # their text is still in the form
    assert "First editor&#x27;s text" in response.text  # and the other version beside it
    section.refresh_from_db()
    assert section.text_en == "First editor's text"


def test_a_translator_edits_only_the_chinese(staff_login, coordinator):
    case, _ = _case_with_dated_records()
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="background")
    translator = staff_in("translator")
    saved = summary_section_save(
        section=section,
        edit=SectionEdit(
            section.text_en, section.state_en, "背景：黑色素瘤", "draft", section.version
        ),
        by=translator,
    )
    assert saved.text_zh == "背景：黑色素瘤"
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        summary_section_save(
            section=saved,
            edit=SectionEdit("Changed", "draft", saved.text_zh, "draft", saved.version),
            by=translator,
        )
    client = staff_login(translator)
    assert client.get(f"/admin/cases/summarysection/{section.pk}/change/").status_code == 200
    assert client.get(_change_url(case)).status_code == 403
    client.post(f"/admin/cases/case/{case.pk}/transition/", {"to": "review"})
    case.refresh_from_db()
    assert case.status == Status.DRAFTING


def test_every_edit_keeps_history_with_a_diff(coord_client, coordinator):
    case, _ = _case_with_dated_records()
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="goal")
    summary_section_save(
        section=section,
        edit=SectionEdit("A new goal line", "draft", "", "not_started", section.version),
        by=coordinator,
    )
    assert section.history.count() >= 2
    page = coord_client.get(f"/admin/cases/case/{case.pk}/summary/goal/history/")
    assert "<ins>+ A new goal line</ins>" in page.text
    assert "coord" in page.text


# --- Directions and outcome -------------------------------------------------------------------


def test_directions_are_suggested_and_confirmed_with_their_cautions(coord_client):
    case, _ = _case_with_dated_records()
    # Melanoma is not what CAR-T is for: it is not suggested, though it can be chosen.
    page = coord_client.get(f"/admin/cases/case/{case.pk}/directions/")
    assert "(high risk)" not in page.text
    case.diagnosis = "Relapsed diffuse large B-cell lymphoma"
    case.save(update_fields=["diagnosis"])
    page = coord_client.get(f"/admin/cases/case/{case.pk}/directions/")
    assert "CAR-T cell therapy" in page.text and "(high risk)" in page.text
    car_t = MedicalDirection.objects.get(name_en="CAR-T cell therapy")
    refused = coord_client.post(
        f"/admin/cases/case/{case.pk}/directions/", {"direction": car_t.pk, "rationale": " "}
    )
    assert refused.status_code == 200 and not CaseDirection.objects.exists()
    coord_client.post(
        f"/admin/cases/case/{case.pk}/directions/",
        {"direction": car_t.pk, "rationale": "Relapsed after two lines"},
    )
    assert CaseDirection.objects.get().rationale == "Relapsed after two lines"
    change = coord_client.get(_change_url(case))
    assert "Whether this is possible depends on the diagnosis" in change.text


def test_the_outcome_reaches_the_patient_with_the_clinician_reminder(
    coord_client, coordinator, client, mailoutbox, run_on_commit
):
    case, membership = patient_case(assigned_coordinator=coordinator, status=Status.SHARED)
    with run_on_commit():
        coord_client.post(
            f"/admin/cases/case/{case.pk}/outcome/",
            {
                "expected": "shared",
                "opinion_file": ContentFile(pdf_bytes(marker="opinion"), name="opinion.pdf"),
            },
        )
        coord_client.post(
            f"/admin/cases/case/{case.pk}/outcome/",
            {
                "opinion_summary": "The team agrees with the current plan.",
                "next_steps": "Share this letter with your oncologist.",
                "confirmed": "on",
            },
        )
    case.refresh_from_db()
    assert case.status == Status.OPINION_RECEIVED
    assert CaseOutcome.objects.get(case=case).released_at is not None
    assert case.records.get().category == "reviewer_opinion"
    assert Notification.objects.filter(case=case, kind="outcome_available").exists()
    assert all("current plan" not in m.body for m in mailoutbox)
    client.force_login(membership.user)
    portal = client.get(f"/my/cases/{case.reference}/")
    assert "The team agrees with the current plan." in portal.text
    assert "Any change to treatment is for the patient's own clinicians" in portal.text


# --- Permission matrix --------------------------------------------------------------------------

ADMIN_PAGES = [
    ("queue", "/admin/cases/case/?assigned=all"),
    ("case", "/admin/cases/case/{pk}/change/"),
    ("summary", "/admin/cases/case/{pk}/summary/"),
    ("request", "/admin/cases/case/{pk}/request-records/"),
    ("directions", "/admin/cases/case/{pk}/directions/"),
    ("outcome", "/admin/cases/case/{pk}/outcome/"),
    ("audit", "/admin/cases/auditevent/"),
    ("sections", "/admin/cases/summarysection/"),
    ("translations", "/admin/cases/case/translations/"),
]
# Who may open which admin page (200); everyone else gets 403 (staff) or login (others).
ALLOWED = {
    "coordinator": {
        "queue",
        "case",
        "summary",
        "request",
        "directions",
        "outcome",
        "audit",
        "sections",
        "translations",
    },
    "manager": {
        "queue",
        "case",
        "summary",
        "request",
        "directions",
        "outcome",
        "audit",
        "sections",
        "translations",
    },
    "translator": {"sections", "translations"},
}


@pytest.mark.parametrize("role", ["coordinator", "manager", "translator", "patient", "family"])
def test_the_permission_matrix(role, staff_login, client):
    case, patient = patient_case()
    from cases.models import Membership
    from tests.factories import MembershipFactory

    family = MembershipFactory(case=case, role=Membership.Role.CONTRIBUTOR)
    if role in ALLOWED:
        user_client = staff_login(staff_in(role))
    else:
        user = patient.user if role == "patient" else family.user
        client.force_login(user)
        user_client = client
    for name, url in ADMIN_PAGES:
        response = user_client.get(url.format(pk=case.pk))
        if name in ALLOWED.get(role, set()):
            assert response.status_code == 200, (role, name)
        elif role in ALLOWED:
            # Refused: 403 for a page of a kind they never open, 404 for a case they may
            # not see (a translator sees no case at all).
            assert response.status_code in {403, 404}, (role, name, response.status_code)
        else:
            assert response.status_code == 302, (role, name)
            assert response["Location"].startswith("/admin/login/")
    portal = user_client.get(f"/my/cases/{case.reference}/")
    assert portal.status_code == (200 if role in {"patient", "family"} else 404), role
    family_page = user_client.get(f"/my/cases/{case.reference}/family/")
    assert family_page.status_code == (200 if role == "patient" else 404), role


def test_only_a_manager_reassigns(staff_login, coordinator):
    case = CaseFactory(assigned_coordinator=coordinator)
    other = staff_in("coordinator")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        workspace.case_assign(case=case, coordinator=other, by=coordinator)
    manager = staff_in("manager")
    workspace.case_assign(case=case, coordinator=other, by=manager)
    case.refresh_from_db()
    assert case.assigned_coordinator == other


def test_the_assigned_coordinator_box_offers_only_people_who_coordinate(staff_login):
    # A manager once assigned a patient of another case as "coordinator": the box listed
    # every user, and that patient then got the case's message e-mails.
    case, membership = patient_case()
    other_patient = patient_case()[1].user
    coordinator, manager = staff_in("coordinator"), staff_in("manager")
    translator = staff_in("translator")
    client = staff_login(manager)

    page = client.get(_change_url(case)).text
    box = page[page.index('id="id_assigned_coordinator"') :].split("</select>")[0]
    assert f'value="{coordinator.pk}"' in box and f'value="{manager.pk}"' in box
    for outsider in (membership.user, other_patient, translator):
        assert f'value="{outsider.pk}"' not in box

    form = client.get(_change_url(case)).context["adminform"].form
    data = {**form.initial, "assigned_coordinator": other_patient.pk}
    data = {k: v for k, v in data.items() if v is not None and not isinstance(v, list)}
    refused = client.post(_change_url(case), data)
    assert set(refused.context["adminform"].form.errors) == {"assigned_coordinator"}
    case.refresh_from_db()
    assert case.assigned_coordinator_id != other_patient.pk


def test_the_case_page_spells_nhs_in_capitals(coord_client, coordinator):
    case = CaseFactory(assigned_coordinator=coordinator)
    page = coord_client.get(_change_url(case)).text
    assert "NHS number" in page and "Nhs number" not in page


def test_a_translator_saves_the_chinese_in_the_browser_form(staff_login, coordinator):
    case, _ = _case_with_dated_records()
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="background")
    client = staff_login(staff_in("translator"))
    url = f"/admin/cases/summarysection/{section.pk}/change/"
    page = client.get(url)
    assert 'name="base_version"' in page.text
    assert 'name="text_en"' not in page.text  # English is read-only for translators
    response = client.post(
        url,
        {"text_zh": "背景：黑色素瘤", "state_zh": "draft", "base_version": section.version},
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.text_zh == "背景：黑色素瘤"
    assert section.history.first().history_user.groups.filter(name="translator").exists()


def test_a_stale_translator_save_keeps_their_text(staff_login, coordinator):
    case, _ = _case_with_dated_records()
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="background")
    stale_version = section.version
    summary_section_save(
        section=section,
        edit=SectionEdit(section.text_en, section.state_en, "别人的译文", "draft", section.version),
        by=coordinator,
    )
    client = staff_login(staff_in("translator"))
    response = client.post(
        f"/admin/cases/summarysection/{section.pk}/change/",
        {"text_zh": "我的译文", "state_zh": "draft", "base_version": stale_version},
    )
    assert response.status_code == 200
    assert "Someone else saved this section" in response.text
    assert "我的译文" in response.text and "别人的译文" in response.text
    section.refresh_from_db()
    assert section.text_zh == "别人的译文"


def test_coordinators_read_only_the_audit_and_summaries_of_cases_they_may_see(
    coord_client, coordinator
):
    from cases.audit import audit_log
    from cases.models import AuditEvent

    theirs = CaseFactory(assigned_coordinator=staff_in("coordinator"))
    mine = CaseFactory(assigned_coordinator=coordinator)
    for case in (theirs, mine):
        audit_log(action=AuditEvent.Action.CASE_VIEWED, case=case)
        SummarySection.objects.create(case=case, key="background", text_en=f"about {case.pk}")
    audit = coord_client.get("/admin/cases/auditevent/").text
    assert mine.reference in audit and theirs.reference not in audit
    sections = coord_client.get("/admin/cases/summarysection/").text
    assert mine.reference in sections and theirs.reference not in sections


def test_the_case_page_shows_a_representatives_authority_and_the_patients_confirmation(
    coord_client, coordinator
):
    from django.utils import timezone

    from cases.models import Consent

    case = CaseFactory(
        assigned_coordinator=coordinator,
        submitted_by_family=True,
        relationship="Daughter",
        representative_authority="lpa_health",
        patient_email="arthur@example.org",
        patient_confirmed_at=timezone.now(),
    )
    Consent.objects.create(
        case=case,
        kind="processing",
        text_version="2026-11-rep-v1",
        text_sha256="0" * 64,
        authority="lpa_health",
    )
    page = coord_client.get(_change_url(case)).text
    assert "Lasting power of attorney for health and welfare" in page
    assert "arthur@example.org" in page
    assert "Patient confirmed at" in page
