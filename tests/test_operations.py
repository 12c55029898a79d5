import json
import logging

import pytest
from django.core.management import call_command

from cases.models import Case
from medchina.logging import JsonFormatter, RequestIdFilter
from tests.intake.journey import walk_wizard

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_ok(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == body["broker"] == body["storage"] == "ok"
    assert body["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_names_the_broker_when_it_is_down(client, settings):
    from medchina.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz/")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert response.json()["database"] == "ok"


def test_healthz_names_storage_when_its_folder_is_gone(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # A file where a folder should be: nothing can be written below it.
            "OPTIONS": {"location": str(_a_file(tmp_path) / "private")},
        },
    }
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["storage"] == "error"


def _a_file(tmp_path):
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    return path


def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]:
        assert directive in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-ID"]) == 32


def test_no_page_has_inline_script(client):
    for path in ["/", "/start/", "/sign-in/", "/privacy/", "/nowhere/"]:
        text = client.get(path).text
        assert "<script>" not in text and "onclick" not in text, path


def test_a_request_id_from_the_proxy_is_kept_only_if_it_looks_like_one(client):
    assert client.get("/", HTTP_X_REQUEST_ID="abc123def456")["X-Request-ID"] == "abc123def456"
    forged = client.get("/", HTTP_X_REQUEST_ID='"}\n{"level":"CRITICAL"')
    assert forged["X-Request-ID"] != '"}\n{"level":"CRITICAL"'


@pytest.mark.parametrize(("path", "words"), [("/nowhere/", "Page not found")])
def test_error_pages_are_friendly_and_leak_nothing(client, path, words):
    response = client.get(path)
    assert response.status_code == 404
    assert words in response.text
    assert "Traceback" not in response.text and "urlpatterns" not in response.text


@pytest.mark.parametrize(
    ("handler", "status", "words"),
    [
        ("handler400", 400, "could not understand that request"),
        ("handler403", 403, "You cannot see this page"),
        ("handler500", 500, "problem with the service"),
    ],
)
def test_the_other_error_handlers_are_friendly(rf, handler, status, words):
    from django.utils.module_loading import import_string

    from medchina import urls

    view = import_string(getattr(urls, handler))
    request = rf.get("/")
    response = view(request) if status == 500 else view(request, RuntimeError("internals"))
    assert response.status_code == status
    assert words in response.content.decode()
    assert "internals" not in response.content.decode()


def test_log_lines_are_json_with_the_request_id():
    record = logging.makeLogRecord({"msg": "hello %s", "args": ("world",), "name": "t"})
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world"
    assert line["request_id"] == "-"


def test_no_health_data_reaches_the_logs(client, run_on_commit, caplog):
    caplog.set_level(logging.DEBUG)
    walk_wizard(client)
    with run_on_commit():
        client.post("/start/send/")
    client.get("/my/cases/MC-0000-0000/")  # a 404 is logged too
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert Case.objects.count() == 1
    for secret in ["Glioblastoma", "Temozolomide", "9434765919", "Ōkafor", "resection", "1968"]:
        assert secret not in logged


def test_seed_demo_is_idempotent_and_says_how_to_sign_in(capsys, run_on_commit):
    with run_on_commit():
        call_command("seed_demo")
    first = capsys.readouterr().out
    statuses = sorted(Case.objects.values_list("status", flat=True))
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert Case.objects.count() == 3
    assert statuses == ["awaiting_records", "drafting", "submitted"]
    assert "'coordinator'" in first and "password" in first
    assert "otpauth://totp/" in first  # how to enrol the second factor
    assert "0 new demo cases" in second


def test_staff_sessions_end_after_a_short_idle_time(staff_login, settings):
    from tests.factories import patient_case, staff_in

    client = staff_login(staff_in("coordinator"))
    client.get("/admin/")
    assert client.session.get_expiry_age() == settings.MEDCHINA_STAFF_SESSION_IDLE

    _, membership = patient_case()
    from django.test import Client

    patient = Client()
    patient.force_login(membership.user)
    patient.get("/my/")
    assert patient.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
