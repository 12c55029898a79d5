"""Regression tests, one per finding of issue 10 item 1: staff pages scoped everywhere."""

from __future__ import annotations

import re

import pytest

from cases.domain.workflow import Status
from cases.models import AuditEvent
from tests.staff_world import SECRET, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _history_url(world) -> str:
    return f"/admin/cases/summarysection/{world.section.pk}/history/"


def _version_url(world) -> str:
    return f"/admin/cases/summarysection/{world.section.pk}/history/{world.history_id}/"


def _views(case, user) -> int:
    return AuditEvent.objects.filter(
        case=case, actor=user, action=AuditEvent.Action.CASE_VIEWED
    ).count()


# --- django-simple-history's pages ---------------------------------------------------------


def test_a_coordinator_without_access_cannot_read_summary_history(world, staff_login):
    response = staff_login(world.other).get(_history_url(world))
    assert response.status_code == 404
    assert not world.leaked_in(response.text)


def test_a_coordinator_without_access_cannot_read_a_summary_history_version(world, staff_login):
    response = staff_login(world.other).get(_version_url(world))
    assert response.status_code == 404
    assert not world.leaked_in(response.text)


def test_a_coordinator_without_access_cannot_overwrite_a_summary_through_its_history_form(
    world, staff_login
):
    response = staff_login(world.other).post(
        _version_url(world),
        {"text_en": "overwritten", "state_en": "draft", "text_zh": "", "state_zh": "draft",
         "base_version": world.section.version},
    )  # fmt: skip
    assert response.status_code in {403, 404}
    world.section.refresh_from_db()
    assert SECRET in world.section.text_en


@pytest.mark.parametrize("role", ["coordinator-with-access", "manager", "translator"])
def test_nobody_can_revert_a_summary_through_its_history_form(world, staff_login, role):
    before = world.section.history.count()
    response = staff_login(world.user(role)).post(
        _version_url(world),
        {"text_en": "reverted", "state_en": "draft", "text_zh": "回退", "state_zh": "draft",
         "base_version": world.section.version},
    )  # fmt: skip
    assert response.status_code == 403
    world.section.refresh_from_db()
    assert SECRET in world.section.text_en and world.section.text_zh == ""
    assert world.section.history.count() == before


def test_a_coordinator_with_access_reads_summary_history_and_it_is_audited(world, staff_login):
    client = staff_login(world.mine)
    listing = client.get(_history_url(world))
    version = client.get(_version_url(world))
    assert listing.status_code == 200 and version.status_code == 200
    assert SECRET in version.text
    assert "Revert" not in version.text
    assert _views(world.case, world.mine) == 2


def test_a_refused_summary_history_read_writes_no_case_viewed_row(world, staff_login):
    client = staff_login(world.other)
    client.get(_history_url(world))
    client.get(_version_url(world))
    assert _views(world.case, world.other) == 0


def test_a_refused_summary_section_page_is_not_logged_as_case_viewed(world, staff_login):
    response = staff_login(world.other).get(
        f"/admin/cases/summarysection/{world.section.pk}/change/"
    )
    assert response.status_code == 404
    assert not world.leaked_in(response.text)
    assert _views(world.case, world.other) == 0


def test_a_refused_case_page_is_not_logged_as_case_viewed(world, staff_login):
    client = staff_login(world.other)
    for page in ("change/", "summary/", "case-files/", "directions/", "history/"):
        response = client.get(f"/admin/cases/case/{world.case.pk}/{page}")
        assert not world.leaked_in(response.text), page
    assert _views(world.case, world.other) == 0


# --- Notifications, audit, records, case files ---------------------------------------------


def test_a_coordinator_without_access_sees_no_notification_of_the_case(world, staff_login):
    client = staff_login(world.other)
    listing = client.get("/admin/cases/notification/")
    assert listing.status_code == 200
    assert not world.leaked_in(listing.text)
    for notification in (world.notification, world.sign_in_notification):
        page = client.get(f"/admin/cases/notification/{notification.pk}/change/")
        assert page.status_code == 404
        assert not world.leaked_in(page.text)


def test_a_coordinator_sees_notifications_of_their_own_cases_only(world, staff_login):
    listing = staff_login(world.mine).get("/admin/cases/notification/")
    assert world.case.reference in listing.text
    # A sign-in link belongs to a person, not a case: only managers look at those.
    page = staff_login(world.mine).get(
        f"/admin/cases/notification/{world.sign_in_notification.pk}/change/"
    )
    assert page.status_code == 404 and not world.leaked_in(page.text)
    manager_page = staff_login(world.manager).get(
        f"/admin/cases/notification/{world.sign_in_notification.pk}/change/"
    )
    assert manager_page.status_code == 200


def test_a_coordinator_without_access_cannot_read_the_audit_of_the_case(world, staff_login):
    client = staff_login(world.other)
    assert not world.leaked_in(client.get("/admin/cases/auditevent/").text)
    page = client.get(f"/admin/cases/auditevent/{world.audit.pk}/change/")
    assert page.status_code == 404 and not world.leaked_in(page.text)


def test_a_coordinator_without_access_cannot_download_records_or_case_files(world, staff_login):
    client = staff_login(world.other)
    base = f"/admin/cases/case/{world.case.pk}"
    for url in (
        f"{base}/records/{world.record.public_id}/file/",
        f"{base}/records/{world.record.public_id}/thumbnail/",
        f"{base}/case-files/{world.case_file.public_id}/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
    assert not AuditEvent.objects.filter(case=world.case, actor=world.other).exists()


def test_a_translator_never_opens_case_pages_case_files_notifications_or_audit(world, staff_login):
    client = staff_login(world.translator)
    base = f"/admin/cases/case/{world.case.pk}"
    for url in (
        f"{base}/change/",
        f"{base}/case-files/{world.case_file.public_id}/",
        "/admin/cases/notification/",
        "/admin/cases/auditevent/",
    ):
        response = client.get(url)
        assert response.status_code in {403, 404}, url
        assert not world.leaked_in(response.text), url
    assert not AuditEvent.objects.filter(case=world.case, actor=world.translator).exists()


def test_a_translator_reads_the_records_and_summary_of_a_case_being_drafted_audited(
    world, staff_login
):
    client = staff_login(world.translator)
    base = f"/admin/cases/case/{world.case.pk}"
    record = client.get(f"{base}/records/{world.record.public_id}/file/")
    assert record.status_code == 200
    b"".join(record.streaming_content)
    assert client.get(f"{base}/summary/").status_code == 200
    assert client.get(_version_url(world)).status_code == 200
    actions = set(
        AuditEvent.objects.filter(case=world.case, actor=world.translator).values_list(
            "action", flat=True
        )
    )
    assert {AuditEvent.Action.RECORD_DOWNLOADED, AuditEvent.Action.CASE_VIEWED} <= actions


def test_a_translator_reads_nothing_of_a_case_outside_drafting_and_review(staff_login):
    world = build_world(Status.TRIAGE)
    client = staff_login(world.translator)
    base = f"/admin/cases/case/{world.case.pk}"
    for url in (
        f"{base}/records/{world.record.public_id}/file/",
        f"{base}/summary/",
        _history_url(world),
        _version_url(world),
        f"/admin/cases/summarysection/{world.section.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code in {403, 404}, url
        assert not world.leaked_in(response.text), url
    assert not AuditEvent.objects.filter(case=world.case, actor=world.translator).exists()


def test_a_coordinator_without_assignment_reads_a_case_in_review_but_cannot_revert(
    staff_login,
):
    # The second person of the four-eyes release opens the case; restoring stays refused.
    world = build_world(Status.REVIEW)
    client = staff_login(world.other)
    assert client.get(f"/admin/cases/case/{world.case.pk}/change/").status_code == 200
    assert client.get(_version_url(world)).status_code == 200
    response = client.post(
        _version_url(world),
        {"text_en": "overwritten", "state_en": "draft", "text_zh": "", "state_zh": "draft",
         "base_version": world.section.version},
    )  # fmt: skip
    assert response.status_code == 403
    world.section.refresh_from_db()
    assert SECRET in world.section.text_en


# --- A refusal is an error, never "changed successfully" -----------------------------------


def test_a_refused_assignment_is_an_error_not_changed_successfully(world, staff_login):
    client = staff_login(world.mine)
    url = f"/admin/cases/case/{world.case.pk}/change/"
    form = _management_forms(client.get(url).text)
    # A coordinator may take a case but not hand it back: only a manager unassigns.
    response = client.post(url, {**form, "assigned_coordinator": ""}, follow=True)
    assert "changed successfully" not in response.text
    assert "Only a manager can" in response.text
    world.case.refresh_from_db()
    assert world.case.assigned_coordinator == world.mine


def test_a_refused_summary_edit_is_an_error_not_changed_successfully(world, staff_login):
    # The English of a section is the coordinators' to write; a translator's form has it
    # read-only, so a translator's English never reaches the service — and if a refusal
    # does come back from the service, the page says so.
    client = staff_login(world.translator)
    response = client.post(
        f"/admin/cases/summarysection/{world.section.pk}/change/",
        {"text_en": "translator's English", "text_zh": "背景", "state_zh": "draft",
         "base_version": world.section.version - 1},
        follow=True,
    )  # fmt: skip
    assert "changed successfully" not in response.text
    assert "Someone else saved this section" in response.text
    world.section.refresh_from_db()
    assert world.section.text_zh == "" and SECRET in world.section.text_en


def _management_forms(page: str) -> dict[str, str]:
    """The hidden inputs of an admin change page (inline management forms and the like)."""
    pattern = r'<input type="hidden" name="([^"]+)" value="([^"]*)"'
    return {name: value for name, value in re.findall(pattern, page)}
