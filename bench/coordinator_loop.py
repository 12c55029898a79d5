"""How many page loads and actions one case costs a coordinator, from queue to shared.

What it does
    1. Makes a throw-away project state in a temporary folder: SQLite database, private
       files, e-mail to the console, Celery tasks run in the web process
       (``CELERY_TASK_ALWAYS_EAGER``) so the partner file and its page images are made
       without a separate worker. ``manage.py migrate``, then a seed: three staff users
       (coordinators ``alice`` and ``bob``, translator ``tran``) and one HER2 breast-cancer
       case in *drafting*, assigned to alice, with a checked pathology record and the
       patient's sharing consent.
    2. Serves the app with ``manage.py runserver --noreload`` on 127.0.0.1 (DEBUG on, so no
       second factor; the figures are about the workflow, not the sign-in).
    3. Drives headless Chromium (Debian's) with Playwright through the loop, counting for
       alice every page load (each main-frame navigation, redirects included, and the
       case-file page's own refreshes while the file renders) and every action (click,
       fill, choice). Signing in is not counted. The translator's and bob's steps are
       counted apart: they are other people's work.
         alice: queue → case → summary → draft → review the English (7 choices) → save
                all → case page → the record's redaction (save each page; the last
                save approves the copy) → Review → case files → generate partner
                file (waits for it and its page images; the page tells her that a
                second coordinator approves it, as she asked for it)
         tran:  summary → Chinese for each section, reviewed → save all
         bob:   case files → approve
         alice: case page → Ready → Shared
    4. Prints each of alice's page loads with its server time (Navigation Timing:
       ``responseStart - requestStart``), the p95 of those, and a last line
       ``page loads: N, actions: M`` (alice's). Targets: ≤ 15 page loads, ≤ 35 actions.

How to run (from the project root)
    .venv/bin/python bench/coordinator_loop.py
    .venv/bin/python bench/coordinator_loop.py --keep   # keep the temporary folder

Only loopback addresses are used; the server is always stopped.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import HOST, free_port, stop, tail

BASE_DIR = Path(__file__).resolve().parent.parent
# A throw-away database made and removed by this script; never a real account.
PASSWORD = secrets.token_urlsafe(16)
CHROMIUM = os.environ.get("CHROMIUM_PATH", shutil.which("chromium") or "/usr/bin/chromium")

SEED = f"""
from datetime import date
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from cases import services
from cases.domain.consents import ConsentKind
from cases.models import Case, Membership
from cases.records.processing import record_process
from cases.records.services import record_add
from tests.records_support import pdf_bytes

def staff(name, group):
    user = User.objects.create_user(name, f"{{name}}@example.org", "{PASSWORD}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user

alice = staff("alice", "coordinator")
staff("bob", "coordinator")
staff("tran", "translator")
case = Case.objects.create(
    status="drafting", assigned_coordinator=alice, contact_name="Olivia Grant",
    contact_email="olivia@example.org", contact_phone="+447700900123",
    patient_name="Olivia Grant", patient_date_of_birth=date(1980, 2, 3),
    current_provider="Leeds Teaching Hospitals", medical_area="cancer",
    diagnosis="HER2-positive breast cancer", questions=["Should a second HER2 drug be added?"],
    goal="information",
)
patient = User.objects.create_user("olivia@example.org", "olivia@example.org")
Membership.objects.create(case=case, user=patient, role="patient")
services.consent_give(case=case, kind=ConsentKind.SHARING, user=patient)
record = record_add(
    case=case, file=ContentFile(pdf_bytes(pages=3, marker="path"), name="pathology.pdf"),
    category="pathology", document_date=date(2026, 5, 4), description="Core biopsy report",
    run_checks=False,
).record
record_process(record_id=record.pk)  # checks it, then proposes its redaction (eager tasks)
print(case.pk)
"""

SECTIONS = [
    "background",
    "timeline",
    "current_concern",
    "goal",
    "questions",
    "records_provided",
    "records_missing",
]


class Counter:
    """Counts one person's page loads (with server time) and actions."""

    def __init__(self, page, name: str) -> None:
        self.page, self.name = page, name
        self.loads: list[tuple[str, float]] = []
        self.actions = 0
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.loads.append((frame.url, math.nan))

    def settle(self) -> None:
        """Wait for the page, then record the server time of the last navigation."""
        self.page.wait_for_load_state("load")
        timing = self.page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return n ? n.responseStart - n.requestStart : null; }"
        )
        if self.loads and timing is not None:
            url, _ = self.loads[-1]
            self.loads[-1] = (url, float(timing))

    def goto(self, path: str) -> None:
        self.page.goto(path)
        self.settle()

    def click(self, locator) -> None:
        self.actions += 1
        locator.click()
        self.settle()

    def fill(self, locator, text: str) -> None:
        self.actions += 1
        locator.fill(text)

    def check(self, locator) -> None:
        self.actions += 1
        locator.check()

    def choose(self, locator, value: str) -> None:
        self.actions += 1
        locator.select_option(value)


def sign_in(browser, base: str, username: str):
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("load")
    return page


def run(base: str, case_ref: str) -> Counter:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        alice_page = sign_in(browser, base, "alice")
        alice = Counter(alice_page, "alice")
        alice.goto("/admin/cases/case/")
        alice.click(alice_page.get_by_role("link", name=case_ref))
        alice.click(alice_page.get_by_role("link", name="Case summary (English and Chinese)"))
        alice.click(alice_page.get_by_role("button", name="Draft summary"))
        for key in SECTIONS:
            alice.choose(alice_page.locator(f"#id_{key}-state_en"), "reviewed")
        alice.click(alice_page.get_by_role("button", name="Save all sections").first)

        tran_page = sign_in(browser, base, "tran")
        tran = Counter(tran_page, "tran")
        tran.goto(f"/admin/cases/case/{case_ref}/summary/")
        for key in SECTIONS:
            box = tran_page.locator(f"#id_{key}-text_zh")
            if not box.input_value():
                tran.fill(box, f"中文：{key}")
            tran.choose(tran_page.locator(f"#id_{key}-state_zh"), "reviewed")
        tran.click(tran_page.get_by_role("button", name="Save all sections").first)

        alice.click(alice_page.get_by_role("link", name=case_ref))  # breadcrumb
        # The record's partner copy: each page's proposed boxes looked at and saved (the
        # page after a save is the next one to review), then the copy approved.
        alice.click(alice_page.get_by_role("link", name="Review the boxes"))
        while True:
            if alice_page.locator("input[name=keep]").count() == 0:
                alice.check(alice_page.get_by_label("No identifiers on this page"))
            last = alice_page.get_by_role("button", name=re.compile(r"and approve the partner"))
            if last.count():
                alice.click(last)  # the last page: saved and the copy approved at once
                break
            alice.click(alice_page.get_by_role("button", name=re.compile(r"^Save page \d+$")))
        alice.click(alice_page.locator('button[value="review"]'))
        alice.click(alice_page.get_by_role("link", name="PDF case files"))
        alice.click(alice_page.get_by_role("button", name="Generate partner file"))
        deadline = time.monotonic() + 180
        while not alice_page.locator(".page-thumbs img").count():
            if time.monotonic() > deadline:
                raise SystemExit("the partner file or its page images did not appear in 180 s")
            alice_page.wait_for_event("load", timeout=30_000)  # the page refreshes itself
            alice.settle()
        if alice_page.get_by_role("button", name="Approve partner file v1").count():
            raise SystemExit("alice asked for the file but is offered its approval")

        bob_page = sign_in(browser, base, "bob")
        bob = Counter(bob_page, "bob")
        bob.goto(f"/admin/cases/case/{case_ref}/case-files/")
        bob.click(bob_page.get_by_role("button", name="Approve partner file v1"))

        alice.click(alice_page.get_by_role("link", name=case_ref))
        alice.click(alice_page.locator('button[value="ready"]'))
        alice.click(alice_page.locator('button[value="shared"]'))
        if "is now Shared" not in alice_page.locator(".messagelist").inner_text():
            raise SystemExit("the case did not reach Shared: " + alice_page.content()[:500])
        for other in (tran, bob):
            print(f"{other.name}: {len(other.loads)} page loads, {other.actions} actions")
        browser.close()
        return alice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="mc-loop-"))
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "MEDCHINA_VAR_DIR": str(scratch / "var"),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "CELERY_BROKER_URL": "memory://",
        "CACHE_URL": "locmemcache://bench-loop",
        "MEDCHINA_ADMIN_REQUIRE_2FA": "false",
    }
    python = sys.executable
    log = scratch / "server.log"
    server = None
    try:
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        seeded = subprocess.run(
            [python, "manage.py", "shell", "-c", SEED], cwd=BASE_DIR, env=env, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        case_ref = seeded.stdout.strip().splitlines()[-1]
        port = free_port()
        with log.open("wb") as out:
            server = subprocess.Popen(
                [python, "manage.py", "runserver", "--noreload", f"{HOST}:{port}"],
                cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        base = f"http://{HOST}:{port}"
        for _ in range(100):
            try:
                import urllib.request

                urllib.request.urlopen(f"{base}/admin/login/", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        alice = run(base, case_ref)
    except subprocess.CalledProcessError as error:
        print(error.stdout, error.stderr, tail(log), sep="\n")
        raise
    finally:
        if server is not None:
            stop(server)
        if not options.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    times = sorted(t for _, t in alice.loads if not math.isnan(t))
    for url, server_ms in alice.loads:
        print(f"  {server_ms:7.1f} ms  {url.split(base, 1)[-1]}")
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else math.nan
    print(f"p95 server time per page: {p95:.1f} ms over {len(times)} pages")
    print(f"page loads: {len(alice.loads)}, actions: {alice.actions}")


if __name__ == "__main__":
    main()
