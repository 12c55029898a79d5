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


def _fields(html: str) -> dict[str, dict]:
    """Each form control of the page's stacked fields: its label, description and errors."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)
    found = {}
    for row in tree.xpath('//div[contains(@class, "stacked-field")]'):
        control = row.xpath(".//textarea | .//select | .//input")[0]
        label = tree.xpath(f'//label[@for="{control.get("id")}"]')
        described = [
            " ".join(tree.get_element_by_id(i).text_content().split())
            for i in (control.get("aria-describedby") or "").split()
        ]
        found[control.get("name")] = {
            "label": label[0].text_content().strip() if label else None,
            "label_first": bool(label) and _before(row, label[0], control),
            "described_by": described,
        }
    return found


def _before(row, first, second) -> bool:
    order = list(row.iter())
    return order.index(first) < order.index(second)


def test_the_withdraw_form_has_labels_above_fields_and_errors_tied_to_them(staff_login):
    coordinator = staff_in("coordinator", username="coord")
    case, _ = patient_case(status=Status.TRIAGE, assigned_coordinator=coordinator)
    url = f"/admin/cases/case/{case.pk}/withdraw/"

    page = staff_login(coordinator).post(url, {"expected": "triage", "note": " "})

    fields = _fields(page.content.decode())
    assert set(fields) == {"channel", "note", "confirmed"}
    assert fields["channel"]["label"] == "How did the patient ask?"
    assert fields["channel"]["label_first"] and fields["note"]["label_first"]
    assert fields["channel"]["described_by"] == ["This field is required."]
    assert fields["note"]["described_by"] == ["This field is required."]
    assert fields["confirmed"]["label"].startswith("I confirm the patient")
    case.refresh_from_db()
    assert case.status == Status.TRIAGE


def test_the_outcome_form_ties_help_and_errors_to_their_fields(staff_login):
    from cases.models import Record, RecordCategory

    coordinator = staff_in("coordinator", username="coord")
    case, _ = patient_case(status=Status.OPINION_RECEIVED, assigned_coordinator=coordinator)
    Record.objects.create(case=case, category=RecordCategory.REVIEWER_OPINION, size=8)
    url = f"/admin/cases/case/{case.pk}/outcome/"

    page = staff_login(coordinator).post(
        url, {"opinion_summary": "Agreed.", "next_steps": "GP.", "seen_release": ""}
    )

    fields = _fields(page.content.decode())
    assert fields["opinion_summary"]["label"] == "Plain-English summary of the reviewer's opinion"
    assert fields["opinion_summary"]["label_first"] and fields["next_steps"]["label_first"]
    assert fields["next_steps"]["described_by"][0].startswith("More records, hospital")
    assert fields["confirmed"]["described_by"] == [
        "Tick the box to confirm the patient may read this now."
    ]


def test_the_case_page_links_each_of_its_sections_from_the_bar_that_stays_in_view(staff_login):
    from lxml import html as lxml_html

    coordinator = staff_in("coordinator", username="coord")
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)

    page = staff_login(coordinator).get(f"/admin/cases/case/{case.pk}/change/")

    tree = lxml_html.fromstring(page.content.decode())
    bar = tree.xpath('//div[@role="region"][@aria-label="Actions for this case"]')[0]
    links = bar.xpath('.//nav[@aria-label="Sections of this page"]//a')
    labels = [link.text_content() for link in links]
    assert labels[:4] == ["Case", "Enquiry", "Key facts", "Patient"]
    assert {"Notes", "Records", "Directions", "Status history"} <= set(labels)
    for link in links:
        assert tree.xpath(f'//*[@id="{link.get("href")[1:]}"]'), link.get("href")
    # Save is in the bar too, for the form below it.
    save = bar.xpath('.//button[@form="case_form"]')[0]
    assert save.get("name") == "_continue" and tree.xpath('//form[@id="case_form"]')
    assert [h.text_content() for h in tree.xpath("//h1")] == [f"Case {case.reference}"]
