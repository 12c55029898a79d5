"""The permission matrix, generated: every admin URL of every registered model, as every
staff role, by GET and by POST.

The URL list comes from ``admin.site`` itself, so a new model admin or a new custom view
is walked without anyone remembering to add it — and fails here until expected_for() says who
may open it. A refused request must not show the case, write a "Case viewed" row or
change anything; an allowed one must answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.access import TRANSLATABLE
from cases.domain.workflow import Status
from cases.models import (
    AuditEvent,
    Case,
    CaseFile,
    InternalNote,
    MedicalTerm,
    Record,
    SummarySection,
)
from tests.staff_world import ROLES, World, build_world

pytestmark = pytest.mark.django_db

WITH, WITHOUT, TRANSLATOR, MANAGER = ROLES
OK = "ok"  # answers, and may show the case
NO_CASE = "ok, without the case"  # answers, but shows nothing of this case
REFUSED = "refused"  # 403 or 404 (405 for a method a page does not take)


def _all(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


MANAGER_ONLY = {WITH: REFUSED, WITHOUT: REFUSED, TRANSLATOR: REFUSED, MANAGER: NO_CASE}

# The case's status changes who may see it (cases/access.py): every coordinator opens a
# case in review (the second person of the four-eyes release); translators open the
# summary and records of a case being drafted or reviewed, and nothing else of it.
STATUSES = [Status.DRAFTING, Status.REVIEW, Status.TRIAGE]


def expected_for(status: str) -> dict[tuple[str, str], dict[str, str]]:
    """(URL name, method) -> role -> outcome. "*" stands for both methods."""
    in_review = status == Status.REVIEW
    translating = status in TRANSLATABLE
    case_work = {WITH: OK, WITHOUT: OK if in_review else REFUSED, TRANSLATOR: REFUSED, MANAGER: OK}
    case_list = {**case_work, WITHOUT: OK if in_review else NO_CASE}
    # What a translator reads beside the summary: the summary editor and the records.
    translation_work = {**case_work, TRANSLATOR: OK if translating else REFUSED}
    section_work = translation_work
    section_list = {**case_list, TRANSLATOR: OK if translating else NO_CASE}
    # The translation queue lists the cases whose Chinese each person may write now.
    translation_list = {
        **_all(OK if translating else NO_CASE),
        WITHOUT: OK if in_review else NO_CASE,
    }
    expected = {
        # The coordinator workspace: the case and its custom pages.
        ("cases_case_changelist", "*"): case_list,
        ("cases_case_add", "*"): _all(REFUSED),
        ("cases_case_change", "*"): case_work,
        ("cases_case_history", "*"): case_work,
        ("cases_case_delete", "*"): _all(REFUSED),
        ("cases_case_transition", "*"): case_work,
        ("cases_case_request_records", "*"): case_work,
        ("cases_case_summary", "*"): translation_work,
        ("cases_case_summary_history", "*"): case_work,
        ("cases_case_directions", "*"): case_work,
        ("cases_case_outcome", "*"): case_work,
        ("cases_case_record", "*"): translation_work,
        # Redaction review decides what a partner sees of a record: coordinators' work.
        ("cases_case_redaction", "*"): case_work,
        ("cases_case_redaction_picture", "*"): case_work,
        ("cases_case_case_files", "*"): case_work,
        ("cases_case_case_file", "*"): case_work,
        ("cases_case_case_file_pages", "*"): case_work,
        ("cases_case_case_file_page", "*"): case_work,
        ("cases_case_messages", "*"): case_work,
        ("cases_case_erasure", "*"): case_work,
        ("cases_case_withdraw", "*"): case_work,
        ("cases_case_translations", "GET"): translation_list,
        ("cases_case_translations", "POST"): _all(REFUSED),
        # Summary sections: history is read-only for all, deleting refused for all.
        ("cases_summarysection_changelist", "*"): section_list,
        ("cases_summarysection_add", "*"): _all(REFUSED),
        ("cases_summarysection_change", "*"): section_work,
        ("cases_summarysection_history", "*"): section_work,
        ("cases_summarysection_simple_history", "GET"): section_work,
        ("cases_summarysection_simple_history", "POST"): _all(REFUSED),
        ("cases_summarysection_delete", "*"): _all(REFUSED),
        # Directions are data, not a case: everyone reads them, managers edit them.
        ("cases_medicaldirection_changelist", "*"): _all(NO_CASE),
        ("cases_medicaldirection_add", "*"): MANAGER_ONLY,
        ("cases_medicaldirection_change", "GET"): _all(NO_CASE),
        ("cases_medicaldirection_change", "POST"): MANAGER_ONLY,
        ("cases_medicaldirection_history", "*"): _all(NO_CASE),
        ("cases_medicaldirection_delete", "*"): _all(REFUSED),
        # The term list is shared data too: staff who translate keep it, managers remove.
        ("cases_medicalterm_changelist", "*"): _all(NO_CASE),
        ("cases_medicalterm_add", "*"): _all(NO_CASE),
        ("cases_medicalterm_change", "*"): _all(NO_CASE),
        ("cases_medicalterm_history", "*"): _all(NO_CASE),
        ("cases_medicalterm_delete", "*"): MANAGER_ONLY,
        # Audit and notifications: read-only, scoped like the case.
        ("cases_auditevent_changelist", "*"): case_list,
        ("cases_auditevent_add", "*"): _all(REFUSED),
        ("cases_auditevent_change", "GET"): case_work,
        ("cases_auditevent_change", "POST"): _all(REFUSED),
        ("cases_auditevent_history", "*"): case_work,
        ("cases_auditevent_delete", "*"): _all(REFUSED),
        ("cases_notification_changelist", "*"): case_list,
        ("cases_notification_add", "*"): _all(REFUSED),
        ("cases_notification_change", "GET"): case_work,
        ("cases_notification_change", "POST"): _all(REFUSED),
        ("cases_notification_history", "*"): case_work,
        ("cases_notification_delete", "*"): _all(REFUSED),
        # The admin site's own pages that can show a model's rows.
        ("index", "*"): _all(NO_CASE),
        ("app_list:cases", "*"): _all(NO_CASE),
        ("autocomplete", "GET"): case_list,
        ("autocomplete", "POST"): _all(REFUSED),
        ("view_on_site", "*"): _all(REFUSED),
    }
    # Accounts, second factors and lock-outs belong to no staff role of the matrix.
    for prefix in ("auth_user", "auth_group", "otp_totp_totpdevice"):
        for view in ("changelist", "add", "change", "history", "delete"):
            expected[(f"{prefix}_{view}", "*")] = _all(REFUSED)
    for model in ("accessattempt", "accesslog", "accessfailurelog"):
        for view in ("changelist", "add", "change", "history", "delete"):
            expected[(f"axes_{model}_{view}", "*")] = _all(REFUSED)
    for name in (
        "auth_user_password_change",
        "otp_totp_totpdevice_config",
        "otp_totp_totpdevice_qrcode",
        "app_list:auth",
        "app_list:otp_totp",
        "app_list:axes",
    ):
        expected[(name, "*")] = _all(REFUSED)
    return expected


# Site pages about the signed-in person, not about any model's rows.
NOT_ABOUT_ROWS = {"login", "logout", "password_change", "password_change_done", "jsi18n"}

# A POST that is allowed gets the least a page needs to answer rather than 404.
POST_DATA = {"cases_case_summary": {"section": "background"}}


@dataclass(frozen=True)
class Page:
    name: str
    url: str


def _objects(world: World) -> dict[type, object]:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth import get_user_model

    device = TOTPDevice.objects.create(user=world.mine, name="matrix", confirmed=True)
    return {
        Case: world.case,
        SummarySection: world.section,
        AuditEvent: world.audit,
        type(world.notification): world.notification,
        type(world.direction): world.direction,
        MedicalTerm: MedicalTerm.objects.get_or_create(en="matrix term", defaults={"zh": "矩阵"})[
            0
        ],
        get_user_model(): world.mine,
        Group: Group.objects.get(name="coordinator"),
        TOTPDevice: device,
        AccessAttempt: AccessAttempt.objects.create(
            username="coord-mine", ip_address="203.0.113.9", failures_since_start=1
        ),
        AccessLog: AccessLog.objects.create(username="coord-mine", ip_address="203.0.113.9"),
        AccessFailureLog: AccessFailureLog.objects.create(
            username="coord-mine", ip_address="203.0.113.9", locked_out=False
        ),
    }


def _arguments(pattern: URLPattern, obj, world: World) -> list[dict | tuple]:
    """Every way to fill this pattern's parameters for the world's object."""
    route = str(pattern.pattern)
    if pattern.pattern.regex.groups and not pattern.pattern.regex.groupindex:
        # django-simple-history's (object id, history id), positional.
        return [(str(obj.pk), str(world.history_id))]
    kwargs: dict = {}
    for name in pattern.pattern.regex.groupindex:
        if name in {"object_id", "pk", "id"}:
            kwargs[name] = obj.pk
        elif name == "key":
            kwargs[name] = world.section.key
        elif name == "public_id":
            kwargs[name] = (
                world.record.public_id if "records/" in route else world.case_file.public_id
            )
        elif name == "number":
            kwargs[name] = 1
        elif name == "kind":
            kwargs[name] = "file"
        else:
            raise AssertionError(f"{pattern.name}: say how to fill <{name}> in the matrix")
    if "kind" in kwargs:
        return [kwargs, {**kwargs, "kind": "thumbnail"}]
    return [kwargs]


def admin_pages(world: World) -> list[Page]:
    """Every admin URL, read from the admin site's registry and URL patterns."""
    objects = _objects(world)
    pages: list[Page] = []
    for model, model_admin in admin.site._registry.items():
        assert model in objects, f"{model._meta.label} is new in the admin: give it a row"
        for pattern in model_admin.get_urls():
            if pattern.name is None:
                continue  # <id>/ only redirects to <id>/change/
            for args in _arguments(pattern, objects[model], world):
                if isinstance(args, tuple):
                    url = reverse(f"admin:{pattern.name}", args=args)
                else:
                    url = reverse(f"admin:{pattern.name}", kwargs=args)
                if pattern.name == "cases_case_changelist":
                    url += "?assigned=all"  # every case the role may see, not just "mine"
                pages.append(Page(pattern.name, url))
    for pattern in admin.site.get_urls():
        name = getattr(pattern, "name", None)
        if name is None or name in NOT_ABOUT_ROWS:
            continue
        if name == "index":
            pages.append(Page(name, reverse("admin:index")))
        elif name == "app_list":
            for app_label in {m._meta.app_label for m in admin.site._registry}:
                url = reverse("admin:app_list", kwargs={"app_label": app_label})
                pages.append(Page(f"app_list:{app_label}", url))
        elif name == "autocomplete":
            query = (
                f"?app_label=cases&model_name=summarysection&field_name=case"
                f"&term={world.case.reference}"
            )
            pages.append(Page(name, reverse("admin:autocomplete") + query))
        elif name == "view_on_site":
            from django.contrib.contenttypes.models import ContentType

            content_type = ContentType.objects.get_for_model(Case)
            pages.append(
                Page(name, reverse("admin:view_on_site", args=[content_type.pk, world.case.pk]))
            )
        else:
            raise AssertionError(f"admin:{name} is new: add it to the matrix")
    return pages


def _expected(page: Page, method: str, role: str, status: str) -> str:
    expected = expected_for(status)
    row = expected.get((page.name, method)) or expected.get((page.name, "*"))
    assert row is not None, f"{page.name} ({method}) is not in expected_for(): say who may open it"
    return row[role]


def _state(world: World) -> tuple:
    """What a refused request must leave exactly as it was."""
    case = Case.objects.get(pk=world.case.pk)
    section = SummarySection.objects.get(pk=world.section.pk)
    return (
        case.status,
        case.assigned_coordinator_id,
        section.text_en,
        section.text_zh,
        section.version,
        section.history.count(),
        Record.objects.filter(case=case).count(),
        CaseFile.objects.filter(case=case).count(),
        InternalNote.objects.filter(case=case).count(),
        case.record_requests.count(),
        case.case_directions.count() if hasattr(case, "case_directions") else 0,
        type(world.notification).objects.count(),
        TOTPDevice.objects.count(),
        Group.objects.count(),
    )


def _english(world: World) -> tuple[str, str]:
    """Translators write Chinese only: whatever they send, the English stays as it was."""
    section = SummarySection.objects.get(pk=world.section.pk)
    return section.text_en, section.state_en


def _body(response) -> str:
    if getattr(response, "streaming", False):
        # Consuming the stream closes the response the way the test client expects.
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="ignore")


def _refused(response) -> bool:
    return response.status_code in {403, 404, 405}


def _answers(response) -> bool:
    if response.status_code == 200:
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and not (
        location == reverse("admin:index") or location.startswith(reverse("admin:login"))
    )


def _walk(world: World, role: str, client) -> tuple[int, list[str]]:
    user = world.user(role)
    problems: list[str] = []
    requests = 0
    for page in admin_pages(world):
        for method in ("GET", "POST"):
            expected = _expected(page, method, role, world.case.status)
            before = _state(world)
            english = _english(world)
            views_before = AuditEvent.objects.filter(
                actor=user, case=world.case, action=AuditEvent.Action.CASE_VIEWED
            ).count()
            if method == "GET":
                response = client.get(page.url)
            else:
                response = client.post(page.url, POST_DATA.get(page.name, {}))
            requests += 1
            body = _body(response)
            where = f"{role} {method} {page.url} -> {response.status_code}"
            if expected == REFUSED:
                if not _refused(response):
                    problems.append(f"{where}: expected a refusal")
                if _state(world) != before:
                    problems.append(f"{where}: a refused request changed data")
                views = AuditEvent.objects.filter(
                    actor=user, case=world.case, action=AuditEvent.Action.CASE_VIEWED
                ).count()
                if views != views_before:
                    problems.append(f"{where}: a refused request was logged as 'Case viewed'")
            elif not _answers(response):
                problems.append(f"{where}: expected an answer")
            if role == TRANSLATOR and _english(world) != english:
                problems.append(f"{where}: a translator changed the English summary")
            if expected != OK and world.leaked_in(body):
                problems.append(f"{where}: shows {world.leaked_in(body)}")
    return requests, problems


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_the_admin_permission_matrix(role, status, staff_login):
    world = build_world(status)
    requests, problems = _walk(world, role, staff_login(world.user(role)))
    assert not problems, "\n".join(problems)
    assert requests >= 100  # the walk found the admin's pages, not an empty registry


def test_the_matrix_covers_every_admin_url_pattern():
    world = build_world()
    names = {page.name for page in admin_pages(world)}
    patterns = {
        pattern.name
        for model_admin in admin.site._registry.values()
        for pattern in model_admin.get_urls()
        if pattern.name
    }
    assert patterns <= names
    assert {name for name, _method in expected_for(Status.DRAFTING)} >= names
