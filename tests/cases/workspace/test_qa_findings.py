"""Findings from trying the coordinator workspace as a coordinator, translator and manager."""

from __future__ import annotations

import pytest

from cases.domain.workflow import Status
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


def test_workspace_pages_have_styled_breadcrumbs_and_one_heading(staff_login):
    coordinator = staff_in("coordinator", username="coord")
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)

    response = staff_login(coordinator).get(f"/admin/cases/case/{case.pk}/summary/")

    html = response.content.decode()
    assert response.status_code == 200
    # Django 6's admin styles only <ol class="breadcrumbs">; a div rendered unstyled.
    assert '<ol class="breadcrumbs">' in html
    assert html.count("<h1") == 1, "the page title was printed twice"


def test_a_staff_member_refused_a_page_is_not_told_to_sign_in_as_a_patient(staff_login):
    translator = staff_in("translator", username="trans")

    response = staff_login(translator).get("/admin/cases/case/?assigned=me")

    html = response.content.decode()
    assert response.status_code == 403
    assert "Your role in the workspace does not include this page" in html
    assert "the e-mail address your case uses" not in html


def test_a_stale_outcome_page_does_not_replace_a_released_outcome(staff_login):
    from cases.models import CaseOutcome, Notification, Record, RecordCategory

    coordinator = staff_in("coordinator", username="coord")
    manager = staff_in("manager", username="boss")
    case, _ = patient_case(status=Status.OPINION_RECEIVED, assigned_coordinator=coordinator)
    Record.objects.create(case=case, category=RecordCategory.REVIEWER_OPINION, size=8)
    first, second = staff_login(coordinator), staff_login(manager)
    url = f"/admin/cases/case/{case.pk}/outcome/"
    # Both open the page before anything is released: it carries "no release seen".
    seen = first.get(url).context["seen_release"]
    assert seen == "" and second.get(url).context["seen_release"] == ""
    first.post(
        url,
        {"opinion_summary": "First.", "next_steps": "GP.", "seen_release": seen, "confirmed": "on"},
    )

    refused = second.post(
        url,
        {
            "opinion_summary": "Second.",
            "next_steps": "GP.",
            "seen_release": seen,
            "confirmed": "on",
        },
    )

    assert refused.status_code == 200
    assert "An outcome was released by coord while your page was open" in refused.text
    assert "Second." in refused.text  # what they typed is kept on the page
    assert CaseOutcome.objects.get(case=case).opinion_summary == "First."
    assert Notification.objects.filter(case=case, kind="outcome_available").count() == 1
    # Having read the released outcome, a deliberate correction goes through.
    current = second.get(url).context["seen_release"]
    second.post(
        url,
        {
            "opinion_summary": "Corrected.",
            "next_steps": "GP.",
            "seen_release": current,
            "confirmed": "on",
        },
    )
    assert CaseOutcome.objects.get(case=case).opinion_summary == "Corrected."


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.SHARED, Status.CLOSED])
def test_a_translator_cannot_open_summary_sections_of_a_case_not_being_translated(
    staff_login, status
):
    from cases.models import SummarySection

    translator = staff_in("translator", username="trans")
    case, _ = patient_case(status=status)
    section = SummarySection.objects.create(case=case, key="background", text_en="Secret")
    drafting, _ = patient_case(status=Status.DRAFTING)
    SummarySection.objects.create(case=drafting, key="background", text_en="Being drafted")
    client = staff_login(translator)

    listing = client.get("/admin/cases/summarysection/")
    opened = client.get(f"/admin/cases/summarysection/{section.pk}/change/")
    changed = client.post(
        f"/admin/cases/summarysection/{section.pk}/change/",
        {"text_zh": "改了", "state_zh": "draft", "base_version": section.version},
    )

    assert drafting.reference in listing.text
    assert case.reference not in listing.text
    assert opened.status_code == 404  # as for a row that does not exist: not told it is there
    assert changed.status_code == 404
    section.refresh_from_db()
    assert section.text_zh == ""
