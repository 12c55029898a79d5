"""Client addresses behind the proxy, through a real nginx running our shipped config.

Issue 10 found every client had the proxy's address: six people asking for sign-in links
shared one rate-limit bucket, an attacker locked a manager out from another address, and
every audit row said 127.0.0.1. Here nginx (Debian's package, started by the test on
loopback) runs deploy/nginx/medchina.conf.template in front of the live server, and
clients connect from different loopback addresses (127.0.0.2, 127.0.0.3).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.common import free_port, nginx_in_front_of, wait_for_port
from cases.models import AuditEvent
from medchina.proxy import parse_networks, resolve_client_address
from tests.factories import patient_case, staff_in

ATTACKER, MANAGER, PATIENT = "127.0.0.2", "127.0.0.3", "127.0.0.4"
PASSWORD = "correct horse battery staple 2026"


# --- The rule itself -------------------------------------------------------------------


PROXIES = parse_networks(["127.0.0.1", "10.0.0.0/8"])


def test_a_client_without_a_trusted_proxy_cannot_name_another_address():
    assert resolve_client_address("203.0.113.9", "198.51.100.1", PROXIES) == "203.0.113.9"


def test_the_address_our_proxy_appended_is_the_client():
    chain = "198.51.100.1, 203.0.113.9"  # the first entry was written by the client
    assert resolve_client_address("127.0.0.1", chain, PROXIES) == "203.0.113.9"


def test_a_chain_of_our_own_proxies_is_walked_from_the_right():
    assert resolve_client_address("127.0.0.1", "203.0.113.9, 10.1.2.3", PROXIES) == "203.0.113.9"


def test_garbage_in_the_header_stops_the_walk_at_the_last_trusted_hop():
    assert resolve_client_address("127.0.0.1", "not-an-address", PROXIES) == "127.0.0.1"


def test_a_bad_trusted_proxies_setting_fails_loudly():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not an address"):
        parse_networks(["10.0.0.0/33"])


# --- Through a real nginx ----------------------------------------------------------------


@pytest.fixture
def nginx(live_server, tmp_path, settings):
    """nginx on a free loopback port, proxying to the live server with our config."""
    max_body = 1024 * 1024
    settings.MEDCHINA_MAX_UPLOAD_REQUEST_SIZE = max_body
    with _nginx_in_front_of(urlparse(live_server.url).netloc, tmp_path, max_body) as proxy:
        # Only nginx (on 127.0.0.1) may name the client.
        settings.MEDCHINA_TRUSTED_PROXIES = ["127.0.0.1"]
        yield proxy


@contextmanager
def _nginx_in_front_of(upstream: str, tmp_path: Path, max_body: int) -> Iterator[Proxy]:
    try:
        with nginx_in_front_of(upstream, tmp_path, max_body) as port:
            yield Proxy(port, tmp_path / "access.log")
    except (FileNotFoundError, RuntimeError) as problem:
        pytest.fail(str(problem))


class Proxy:
    def __init__(self, port: int, access_log: Path) -> None:
        self.port = port
        self.access_log = access_log

    def client(self, source: str) -> Browser:
        return Browser(self.port, source)


class Browser:
    """A tiny HTTP client bound to one source address, keeping its cookies."""

    def __init__(self, port: int, source: str) -> None:
        self.port = port
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
        )
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        conn.close()
        return response.status, text, response.headers

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]):
        _status, page, _ = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )


@pytest.fixture
def reference_data(transactional_db):
    from tests.conftest import seed_reference_data

    seed_reference_data()


def test_two_clients_behind_the_proxy_are_counted_apart(nginx, settings, reference_data):
    settings.MEDCHINA_RATELIMIT_SIGN_IN = "2/h"
    first, second = nginx.client(ATTACKER), nginx.client(PATIENT)
    assert first.post_form("/sign-in/", {"email": "a1@example.org"})[0] == 302
    assert first.post_form("/sign-in/", {"email": "a2@example.org"})[0] == 302
    assert first.post_form("/sign-in/", {"email": "a3@example.org"})[0] == 429
    # Someone else, through the same proxy, is not in the first client's bucket.
    assert second.post_form("/sign-in/", {"email": "b1@example.org"})[0] == 302


def test_a_client_cannot_leave_its_bucket_by_writing_x_forwarded_for(
    nginx, settings, reference_data
):
    settings.MEDCHINA_RATELIMIT_SIGN_IN = "1/h"
    client = nginx.client(ATTACKER)
    assert client.post_form("/sign-in/", {"email": "a1@example.org"})[0] == 302
    _status, page, _ = client.get("/sign-in/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "email": "a2@example.org"}).encode()
    spoofed = client.request(
        "POST",
        "/sign-in/",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": "198.51.100.77",
        },
    )
    assert spoofed[0] == 429


def test_an_attacker_cannot_lock_a_manager_out_from_another_address(
    nginx, settings, reference_data
):
    manager = staff_in("manager", username="manager2")
    manager.set_password(PASSWORD)
    manager.save()
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)

    attacker = nginx.client(ATTACKER)
    statuses = [
        attacker.post_form(
            "/admin/login/", {"username": "manager2", "password": "wrong", "otp_token": "000000"}
        )[0]
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    # The form again with an error each time, until the last failure locks the pair out.
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    attempt = AccessAttempt.objects.get(username="manager2")
    assert attempt.ip_address == ATTACKER
    # The attacker's address is now locked out for this account, even with the password.
    locked, _, _ = attacker.post_form(
        "/admin/login/",
        {"username": "manager2", "password": PASSWORD, "otp_token": totp(device.bin_key)},
    )
    assert locked == 429

    real = nginx.client(MANAGER)
    status, _, _headers = real.post_form(
        "/admin/login/",
        {
            "username": "manager2",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": totp(device.bin_key),
        },
    )
    assert status == 302, "the manager, from their own address, signs in"
    assert real.get("/admin/")[0] == 200
    assert not AccessAttempt.objects.filter(ip_address=MANAGER).exists()


def test_audit_rows_carry_the_clients_address_not_the_proxys(nginx, reference_data):
    _case, membership = patient_case()
    client = nginx.client(PATIENT)
    assert client.post_form("/sign-in/", {"email": membership.user.email})[0] == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_LINK_SENT)
    assert event.ip_address == PATIENT


def test_an_upload_over_the_limit_is_refused_by_the_proxy_with_our_own_page(nginx):
    client = nginx.client(PATIENT)
    too_big = 2 * 1024 * 1024
    # Only the headers go: a refusal from Content-Length must not wait for the body.
    conn = http.client.HTTPConnection(
        "127.0.0.1", nginx.port, timeout=10, source_address=(client.source, 0)
    )
    conn.putrequest("POST", "/my/cases/MC-XXXX-XXXX/records/")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(too_big))
    conn.putheader("Accept", "text/html")
    conn.endheaders()
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    assert response.status == 413
    assert "That upload is too large" in page
    assert "medChina Intake" in page


def test_the_access_log_holds_no_query_strings(nginx):
    client = nginx.client(PATIENT)
    client.request(
        "GET", "/sign-in/link/?token=secret-token-value", headers={"Referer": "/x?token=r"}
    )
    client.get("/")  # nginx writes the previous line by now
    log = nginx.access_log.read_text()
    assert "/sign-in/link/" in log
    assert "secret-token-value" not in log and "token=" not in log


# --- Slow clients (issue 10: two slow uploads at 1 MB/s held `GET /` for 25 s) ----------


@pytest.fixture
def production_shape(reference_data, tmp_path):
    """Our nginx config in front of gunicorn run with deploy/gunicorn.conf.py, cut down to
    one sync worker: if a slow client could reach it, nobody else would be served."""
    database = django_settings.DATABASES["default"]
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD']}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "1",
    }
    with log.open("w") as output:
        gunicorn = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--config",
             "deploy/gunicorn.conf.py", "medchina.wsgi"],
            cwd=django_settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, gunicorn, log, seconds=60)  # it loads Django first
        with _nginx_in_front_of(f"127.0.0.1:{port}", tmp_path, 1024 * 1024) as proxy:
            yield proxy
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


def test_a_slow_upload_does_not_hold_the_site_for_everyone_else(production_shape):
    # A patient on a slow line: headers and the first bytes of a 500 kB upload, then
    # nothing more for as long as this test runs.
    slow = socket.create_connection(("127.0.0.1", production_shape.port), timeout=10)
    try:
        slow.sendall(
            b"POST /my/cases/MC-XXXX-XXXX/records/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 500000\r\n\r\n--x\r\n"
        )
        # nginx keeps the unfinished body to itself; the only gunicorn worker answers.
        status, page, _ = production_shape.client(MANAGER).get("/")
        assert status == 200 and "medChina" in page
    finally:
        slow.close()
