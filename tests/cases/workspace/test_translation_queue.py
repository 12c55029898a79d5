"""The translators' queue: the cases they may translate, with what is left to do."""

from __future__ import annotations

import pytest

from cases.domain.workflow import Status
from cases.models import SummarySection, TextState
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db

URL = "/admin/cases/case/translations/"


def _section(case, key, *, zh=TextState.NOT_STARTED, text_en="English", not_needed=""):
    return SummarySection.objects.create(
        case=case,
        key=key,
        text_en=text_en,
        state_en=TextState.DRAFT,
        text_zh="中文" if zh != TextState.NOT_STARTED else "",
        state_zh=zh,
        not_needed_reason=not_needed,
    )


def test_a_translator_sees_the_cases_being_drafted_or_reviewed_with_what_is_left(staff_login):
    translator = staff_in("translator", username="trans")
    drafting, _ = patient_case(status=Status.DRAFTING)
    review, _ = patient_case(status=Status.REVIEW)
    submitted, _ = patient_case(status=Status.SUBMITTED)
    shared, _ = patient_case(status=Status.SHARED)
    Key = SummarySection.Key
    _section(drafting, Key.BACKGROUND)
    _section(drafting, Key.TIMELINE)
    _section(drafting, Key.GOAL, text_en="")  # no English yet: nothing to translate
    _section(drafting, Key.QUESTIONS, not_needed="Asked in the letter")
    _section(review, Key.BACKGROUND, zh=TextState.NEEDS_UPDATE)
    _section(review, Key.TIMELINE, zh=TextState.REVIEWED)

    page = staff_login(translator).get(URL)

    assert page.status_code == 200
    rows = {case.reference: case for case in page.context["rows"]}
    assert set(rows) == {drafting.reference, review.reference}
    assert (rows[drafting.reference].needs_update, rows[drafting.reference].not_started) == (0, 2)
    assert (rows[review.reference].needs_update, rows[review.reference].not_started) == (1, 0)
    assert rows[review.reference].zh_reviewed == 1
    # The most urgent first: a reviewed translation that went stale.
    assert [c.reference for c in page.context["rows"]] == [review.reference, drafting.reference]
    assert f"/admin/cases/case/{drafting.pk}/summary/" in page.text
    assert submitted.reference not in page.text and shared.reference not in page.text
    # References, areas and counts only: no patient names or health content.
    assert drafting.patient_name not in page.text and drafting.diagnosis not in page.text


def test_a_coordinator_sees_only_the_cases_they_may_read(staff_login):
    coordinator = staff_in("coordinator", username="coord")
    other = staff_in("coordinator", username="other")
    mine, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    theirs, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=other)

    page = staff_login(coordinator).get(URL)

    assert [c.reference for c in page.context["rows"]] == [mine.reference]
    assert theirs.reference not in page.text


def test_the_workspace_start_page_links_a_translator_to_the_queue(staff_login):
    page = staff_login(staff_in("translator", username="trans")).get("/admin/")

    assert page.status_code == 200
    assert f'href="{URL}"' in page.text
    assert "Case queue" not in page.text
