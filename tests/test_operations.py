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
        "private": {
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


# --- /healthz/ and manage.py health (issue 10: public, wrote to storage, named the env) ---


def test_healthz_is_only_a_status_for_the_public(client, settings):
    settings.MEDCHINA_TRUSTED_PROXIES = ["127.0.0.1"]
    # Through the proxy from a visitor's address: no detail, no environment.
    response = client.get("/healthz/", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_detail_needs_this_machine_or_the_token(client, settings):
    settings.MEDCHINA_HEALTH_TOKEN = "operator-token-123"
    visitor = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/healthz/", **visitor).json() == {"status": "ok"}
    wrong = client.get("/healthz/", HTTP_AUTHORIZATION="Bearer nope", **visitor)
    assert wrong.json() == {"status": "ok"}
    right = client.get("/healthz/", HTTP_AUTHORIZATION="Bearer operator-token-123", **visitor)
    assert right.json()["database"] == "ok" and "environment" not in right.json()


def test_healthz_writes_nothing_to_storage(client, private_storage):
    before = sorted(p.relative_to(private_storage) for p in private_storage.rglob("*"))
    for _ in range(3):
        assert client.get("/healthz/").status_code == 200
    after = sorted(p.relative_to(private_storage) for p in private_storage.rglob("*"))
    assert after == before


def test_the_health_command_passes_when_everything_answers(capsys):
    call_command("health")
    assert "database: ok" in capsys.readouterr().out


def test_the_health_command_fails_without_the_named_process(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="celery beat"):
        call_command("health", "--process", "beat")


def test_the_health_command_finds_beat_in_proc_without_pgrep(tmp_path):
    from cases.management.commands.health import celery_process_running

    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "cmdline").write_bytes(
        b"/usr/local/bin/python\0/usr/local/bin/celery\0-A\0medchina\0beat\0"
    )
    (tmp_path / "self").mkdir()
    assert celery_process_running("beat", proc=tmp_path)
    assert not celery_process_running("worker", proc=tmp_path)


# --- Uploads refused before the body is read (issue 10: 1 GiB read whole; 101 files -> 400) --


def test_an_upload_over_the_limit_is_refused_from_its_content_length(client, settings):
    settings.MEDCHINA_MAX_UPLOAD_REQUEST_SIZE = 1000
    # The body is never read: a stream that fails when read proves it.
    response = client.generic(
        "POST",
        "/my/cases/MC-AAAA-AAAA/records/",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH="1073741824",
        **{"wsgi.input": _UnreadableBody()},
    )
    assert response.status_code == 413
    assert "That upload is too large" in response.text
    assert "at most 1000" in response.text.replace("\xa0", " ")


def test_json_clients_get_a_json_error_for_an_oversized_upload(client, settings):
    settings.MEDCHINA_MAX_UPLOAD_REQUEST_SIZE = 1000
    response = client.generic(
        "POST",
        "/my/cases/MC-AAAA-AAAA/records/",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH="5000",
        HTTP_ACCEPT="application/json",
        **{"wsgi.input": _UnreadableBody()},
    )
    assert response.status_code == 413
    assert response.json()["results"] == []
    assert "too large" in response.json()["errors"]


def test_more_than_100_files_answers_our_own_page_not_a_generic_400(settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.factories import patient_case

    case, membership = patient_case()
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    page = client.get(f"/my/cases/{case.reference}/records/")
    token = page.cookies["csrftoken"].value
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    files = [SimpleUploadedFile(f"f{n}.pdf", b"%PDF-1.4\n") for n in range(limit + 1)]
    response = client.post(
        f"/my/cases/{case.reference}/records/",
        {"csrfmiddlewaretoken": token, "category": "lab", "files": files},
    )
    assert response.status_code == 400
    assert f"Please upload at most {limit} at a time" in response.text
    assert "Too many files at once" in response.text
    assert not case.records.exists()


class _UnreadableBody:
    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read
