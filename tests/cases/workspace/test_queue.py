"""The queue for 30 cases a day: open cases first, search, bulk actions, CSV for managers."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from cases.domain.workflow import Status
from cases.models import AuditEvent, Case, SummarySection, TextState
from cases.records import processing
from cases.records import services as records
from tests.factories import CaseFactory, StaffFactory, staff_in
from tests.records_support import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    return staff_in("coordinator", username="coord")


@pytest.fixture
def coord_client(coordinator, staff_login):
    return staff_login(coordinator)


def test_my_view_shows_only_open_cases_unless_asked(coord_client, coordinator):
    open_case = CaseFactory(assigned_coordinator=coordinator, status=Status.DRAFTING)
    closed = CaseFactory(assigned_coordinator=coordinator, status=Status.CLOSED)
    withdrawn = CaseFactory(assigned_coordinator=coordinator, status=Status.WITHDRAWN)

    page = coord_client.get("/admin/cases/case/?assigned=me")

    assert open_case.reference in page.text
    assert closed.reference not in page.text and withdrawn.reference not in page.text
    final = coord_client.get("/admin/cases/case/?assigned=me&state=final")
    assert closed.reference in final.text and open_case.reference not in final.text
    by_status = coord_client.get("/admin/cases/case/?assigned=me&status__exact=closed")
    assert closed.reference in by_status.text


def test_a_managers_default_view_is_every_open_case(staff_login):
    manager = staff_in("manager", username="boss")
    theirs = CaseFactory(assigned_coordinator=StaffFactory(), status=Status.TRIAGE)
    client = staff_login(manager)

    response = client.get("/admin/cases/case/")

    assert response["Location"] == "/admin/cases/case/?assigned=all"
    assert theirs.reference in client.get(response["Location"]).text


@pytest.mark.parametrize(
    "term",
    ["zebedee", "Person.Paying@Example.org", "943 476 5919", "07700 900456", "+447700900456"],
)
def test_the_queue_finds_a_case_by_name_email_nhs_number_or_phone(coord_client, coordinator, term):
    found = CaseFactory(
        assigned_coordinator=coordinator,
        patient_name="Zebedee Quill",
        contact_email="person.paying@example.org",
        nhs_number="9434765919",
        contact_phone="+447700900456",
    )
    other = CaseFactory(
        assigned_coordinator=coordinator, nhs_number="", contact_phone="+447700900999"
    )

    page = coord_client.get("/admin/cases/case/", {"assigned": "all", "q": term})

    assert found.reference in page.text
    assert other.reference not in page.text


def test_bulk_assign_takes_unassigned_cases_and_reports_the_rest(coord_client, coordinator):
    free = CaseFactory()
    theirs = CaseFactory(assigned_coordinator=staff_in("coordinator"), status=Status.REVIEW)

    page = coord_client.post(
        "/admin/cases/case/?assigned=all",
        {"action": "assign_to_me", "_selected_action": [free.pk, theirs.pk]},
        follow=True,
    )

    free.refresh_from_db()
    theirs.refresh_from_db()
    assert free.assigned_coordinator == coordinator
    assert theirs.assigned_coordinator != coordinator
    assert theirs.reference in page.text  # named as not assigned


def test_bulk_status_moves_only_where_allowed(coord_client, coordinator):
    submitted = CaseFactory(assigned_coordinator=coordinator, status=Status.SUBMITTED)
    drafting = CaseFactory(assigned_coordinator=coordinator, status=Status.DRAFTING)

    coord_client.post(
        "/admin/cases/case/?assigned=me",
        {"action": "move_to_triage", "_selected_action": [submitted.pk, drafting.pk]},
    )

    assert Case.objects.get(pk=submitted.pk).status == Status.TRIAGE
    assert Case.objects.get(pk=drafting.pk).status == Status.DRAFTING


def test_a_manager_exports_csv_and_it_is_audited(staff_login):
    manager = staff_in("manager", username="boss")
    case = CaseFactory(patient_name="=HYPERLINK Smith", status=Status.TRIAGE)

    response = staff_login(manager).post(
        "/admin/cases/case/?assigned=all",
        {"action": "export_csv", "_selected_action": [case.pk]},
    )

    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert case.reference in body and "Triage" in body
    assert "HYPERLINK" not in body and case.diagnosis not in body
    event = AuditEvent.objects.get(action=AuditEvent.Action.CASES_EXPORTED)
    assert event.actor == manager and event.detail["references"] == [case.reference]


def test_a_coordinator_has_no_export(coord_client, coordinator):
    case = CaseFactory(assigned_coordinator=coordinator)
    page = coord_client.get("/admin/cases/case/?assigned=me")
    assert "export_csv" not in page.text
    coord_client.post(
        "/admin/cases/case/?assigned=me", {"action": "export_csv", "_selected_action": [case.pk]}
    )
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CASES_EXPORTED).exists()


def test_the_queue_marks_chinese_that_needs_an_update(coord_client, coordinator):
    case = CaseFactory(assigned_coordinator=coordinator, status=Status.DRAFTING)
    SummarySection.objects.create(case=case, key="background", state_zh=TextState.NEEDS_UPDATE)

    page = coord_client.get("/admin/cases/case/?assigned=me")
    assert "Chinese needs update" in page.text
    filtered = coord_client.get("/admin/cases/case/?assigned=me&attention=needs_update")
    assert case.reference in filtered.text


def test_the_case_page_shows_thumbnails_and_descriptions_in_document_date_order(
    coord_client, coordinator
):
    from datetime import date

    case = CaseFactory(assigned_coordinator=coordinator, status=Status.DRAFTING)
    for marker, day, text in [
        ("late", date(2026, 3, 1), "Later scan"),
        ("none", None, "Undated letter"),
        ("early", date(2025, 1, 1), "First biopsy"),
    ]:
        record = records.record_add(
            case=case,
            file=ContentFile(pdf_bytes(marker=marker), name=f"{marker}.pdf"),
            category="pathology",
            document_date=day,
            description=text,
            run_checks=False,
        ).record
        processing.record_process(record_id=record.pk)

    page = coord_client.get(f"/admin/cases/case/{case.pk}/change/").text

    assert 'class="record-thumb"' in page
    assert page.index("First biopsy") < page.index("Later scan") < page.index("Undated letter")
