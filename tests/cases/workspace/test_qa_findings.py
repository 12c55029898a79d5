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
