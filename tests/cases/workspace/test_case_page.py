"""The case page and the queue: how a coordinator finds their way around."""

from __future__ import annotations

import re

import pytest

from cases.domain.workflow import Status
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


def _breadcrumbs(html: str) -> list[str]:
    trail = re.search(r'<ol class="breadcrumbs">(.*?)</ol>', html, re.S)
    assert trail, "no breadcrumbs"
    return [
        re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li.*?</li>", trail[1], re.S)
    ]


def test_the_case_page_breadcrumb_names_the_workspace_the_queue_and_the_case(staff_login):
    coordinator = staff_in("coordinator", username="coord")
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    client = staff_login(coordinator)

    case_page = client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    queue = client.get("/admin/cases/case/?assigned=me").content.decode()
    history = client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    summary = client.get(f"/admin/cases/case/{case.pk}/summary/").content.decode()

    assert _breadcrumbs(case_page) == ["Workspace", "Cases", case.reference]
    assert _breadcrumbs(queue) == ["Workspace", "Cases"]
    assert _breadcrumbs(history) == ["Workspace", "Cases", case.reference, "History"]
    assert _breadcrumbs(summary) == ["Workspace", "Cases", case.reference, "Case summary"]
