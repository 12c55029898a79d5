"""Latency of the coordinator queue (the admin's case list) on a large PostgreSQL database.

What it does
    1. Creates a fresh PostgreSQL database ``medchina_bench_queue`` on the local server
       (dropped first if it exists, dropped again at the end unless ``--keep``) and runs
       ``manage.py migrate`` against it with ``DJANGO_DEBUG=false`` (so the admin asks for
       the second factor, as in production), the in-memory Celery broker and throw-away
       folders for ``MEDCHINA_VAR_DIR`` and private storage.
    2. Seeds 21 staff users in the "coordinator" group (the benchmark coordinator and 20
       colleagues), ``--cases`` cases (default 100,000) over two years with a realistic
       spread of status, medical area, assignment and deadlines, and about 1.5 records per
       case (``bulk_create`` in batches of 5,000), then ``VACUUM (ANALYZE)`` so neither
       the planner's statistics nor a late autovacuum disturb the timings.
    3. Signs the benchmark coordinator in with both factors by writing a session (user,
       backend, session hash and the ``otp_device_id`` of a confirmed TOTP device) and
       serves the app with gunicorn (sync workers) on 127.0.0.1.
    4. For each queue page: 5 uncounted warm-up requests, then ``--requests`` (default 50)
       sequential ``GET`` requests, each on a new connection, timed from connect to the
       last byte; every response must be 200 and contain ``result_list``. A slow page
       stops after ``--page-budget`` seconds of timed requests (at least 5), and one
       slower than a tenth of that budget gets a single warm-up.
    5. In-process (Django's test client on the same database) it counts the SQL queries of
       one request per page with ``CaptureQueriesContext``, with their total time, the
       slowest one and the paginator's ``COUNT(*)`` (the admin runs it for the filtered
       result even with ``show_full_result_count = False``).
    6. Prints p50/p95/max per page and PASS/MISS against the target (p95 <= 300 ms). For a
       page that misses (every page with ``--explain-all``) it prints ``EXPLAIN (ANALYZE,
       BUFFERS)`` of the slowest query and of the ``COUNT(*)``, then creates each candidate
       index for that page, re-runs both, and drops it again.

How to run (from the project root; PostgreSQL on 127.0.0.1:5432 with trust auth)
    .venv/bin/python bench/queue.py
    .venv/bin/python bench/queue.py --cases 20000 --requests 20
    .venv/bin/python bench/queue.py --keep            # keep the database to poke at it
    .venv/bin/python bench/queue.py --explain-all     # plans for passing pages too

Only loopback addresses are used; the run is bounded in time (``--page-budget`` seconds of
timed requests per page) and always stops gunicorn and drops the database.
"""

# ruff: noqa: E402 (the imports follow the sys.path fix below)
from __future__ import annotations

# This file is called queue.py, and Python puts its folder first on sys.path, where it
# would shadow the standard library's ``queue`` (imported by logging.handlers, psycopg,
# kombu...). Swap that entry for the project root before anything else is imported.
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == BASE_DIR / "bench":
    sys.path[0] = str(BASE_DIR)
elif str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

import argparse
import http.client
import importlib
import importlib.metadata
import math
import os
import platform
import random
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

# sys.path[0] is the project folder here (see above), so the shared helpers are bench.common.
from bench.common import HOST, free_port, gunicorn_sync, stop, tail

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "medchina_bench_queue"
TARGET_P95_MS = 300.0
BATCH = 5_000
SEARCH_SURNAME = "Whitfield"
QUEUE = "/admin/cases/case/"
SUBMITTED_REF_INDEX = (
    "CREATE INDEX bench_case_submitted_ref ON cases_case (submitted_at DESC, reference DESC)"
)


def words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = words(
    "Amelia Olivia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Emily Poppy "
    "Noah Oliver George Arthur Leo Muhammad Harry Oscar Archie Henry Theo Jack Charlie "
    "Thomas Jacob Alfie Mohammed Aisha Fatima Priya Wei Mei Chen Hannah Ellie Daniel"
)
# Roughly Zipf-weighted: the first names on the list are the commonest.
SURNAMES = words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright "
    "Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke Khan Hughes Edwards "
    "Lewis Harris Martin Cooper King Lee Baker Morris Turner Hill Ward Moore Clark Allen "
    "Wang Zhang Liu Chen Li Huang Ahmed Ali Hussain Begum Singh Kaur Okafor Mensah "
    "Whitfield Pemberton Ashworth Fairbairn Kowalski Nowak Murphy Kelly Byrne Campbell"
)
PROVIDERS = (
    "Guy's and St Thomas' NHS Foundation Trust",
    "Manchester University NHS Foundation Trust",
    "Leeds Teaching Hospitals NHS Trust",
    "University Hospitals Birmingham NHS Foundation Trust",
    "NHS Greater Glasgow and Clyde",
    "Cardiff and Vale University Health Board",
    "The Royal Marsden NHS Foundation Trust",
    "Moorfields Eye Hospital NHS Foundation Trust",
)
# Open statuses and their share of the open backlog.
OPEN_WEIGHTS = {
    "submitted": 14,
    "triage": 20,
    "awaiting_records": 26,
    "drafting": 12,
    "review": 8,
    "ready": 5,
    "shared": 10,
    "opinion_received": 5,
}
FINAL_WEIGHTS = {"closed": 78, "withdrawn": 14, "declined": 8}
AREA_WEIGHTS = {
    "cancer": 36,
    "rare_disease": 20,
    "fertility": 14,
    "eye_care": 10,
    "rehabilitation": 12,
    "other": 8,
}
RECORDS_PER_CASE = {0: 30, 1: 25, 2: 20, 3: 13, 4: 8, 5: 4}  # mean ~1.56
RECORD_STATES = {"ready": 88, "rejected": 6, "received": 4, "checking": 2}


@dataclass(frozen=True)
class Page:
    key: str
    path: str
    # Indexes to try (created, measured, dropped) when the page misses its target.
    candidates: tuple[str, ...] = ()


PAGES = (
    Page(
        "mine",
        f"{QUEUE}?assigned=me",
        (
            "CREATE INDEX bench_case_coord_submitted ON cases_case "
            "(assigned_coordinator_id, submitted_at DESC, reference DESC)",
        ),
    ),
    Page(
        "all",
        f"{QUEUE}?assigned=all",
        (SUBMITTED_REF_INDEX,),
    ),
    Page(
        "triage",
        f"{QUEUE}?assigned=all&status=triage",
        (
            "CREATE INDEX bench_case_status_submitted_ref ON cases_case "
            "(status, submitted_at DESC, reference DESC)",
        ),
    ),
    Page(
        "incomplete",
        f"{QUEUE}?assigned=all&attention=incomplete",
        (
            "CREATE INDEX bench_record_case_category_kept ON cases_record (case_id, category) "
            "WHERE state <> 'rejected'",
        ),
    ),
    Page(
        "overdue",
        f"{QUEUE}?assigned=all&attention=overdue",
        (
            "CREATE INDEX bench_case_open_submitted ON cases_case "
            "(submitted_at DESC, reference DESC) "
            "WHERE status NOT IN ('closed', 'withdrawn', 'declined')",
        ),
    ),
    Page(
        "search",
        f"{QUEUE}?assigned=all&q={SEARCH_SURNAME}",
        (
            # The search is "=reference" (iexact) OR patient_name icontains: a BitmapOr
            # needs an index on each side of the OR.
            "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
            "CREATE INDEX bench_case_patient_trgm ON cases_case "
            "USING gin (upper(patient_name::text) gin_trgm_ops); "
            "CREATE INDEX bench_case_reference_upper ON cases_case (upper(reference::text))",
        ),
    ),
    Page(
        "deep p=100",
        f"{QUEUE}?assigned=all&p=100",
        (SUBMITTED_REF_INDEX,),
    ),
)


# --- Database and environment ------------------------------------------------------------


def bench_env(tmp: Path, args: argparse.Namespace) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "medchina.settings",
        "DJANGO_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "CELERY_BROKER_URL": "memory://",
        "MEDCHINA_VAR_DIR": str(tmp),
        "MEDCHINA_PRIVATE_STORAGE_ROOT": str(tmp / "private"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def server_admin(statement: sql.Composable) -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


def drop_database() -> None:
    server_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))


def create_database() -> None:
    drop_database()
    server_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))


def migrate(env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py migrate failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


# --- Seeding -----------------------------------------------------------------------------


@dataclass
class Seeded:
    user_id: int
    device_id: str
    cases: int = 0
    records: int = 0
    seconds: float = 0.0
    vacuum_seconds: float = 0.0
    status: Counter[str] = field(default_factory=Counter)
    mine: int = 0
    unassigned: int = 0
    surname_matches: int = 0


def weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def unique_references(count: int) -> list[str]:
    from cases.domain import reference

    seen: set[str] = set()
    while len(seen) < count:
        seen.add(reference.generate())
    return list(seen)


def make_staff() -> tuple[Any, list[Any], str]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user_model = get_user_model()
    group = Group.objects.get(name="coordinator")
    me = user_model.objects.create_user(
        "bench-coordinator",
        email="bench-coordinator@example.org",
        password=None,
        first_name="Bench",
        last_name="Coordinator",
        is_staff=True,
    )
    colleagues = []
    for i in range(20):
        colleague = user_model(
            username=f"coordinator-{i:02d}",
            email=f"coordinator-{i:02d}@example.org",
            first_name=FIRST_NAMES[i],
            last_name=SURNAMES[i],
            is_staff=True,
        )
        colleague.set_unusable_password()
        colleagues.append(colleague)
    colleagues = user_model.objects.bulk_create(colleagues)
    group.user_set.add(me, *colleagues)
    device = TOTPDevice.objects.create(user=me, name="bench", confirmed=True)
    return me, colleagues, device.persistent_id


def status_for(rng: random.Random, age_days: float) -> str:
    """Young cases are mostly open; by four months almost all are final."""
    if rng.random() < min(0.97, age_days / 120):
        return weighted(rng, FINAL_WEIGHTS)
    return weighted(rng, OPEN_WEIGHTS)


def seed(count: int, rng: random.Random) -> Seeded:
    from django.db import connection

    from cases.models import Case, MedicalDirection, Record, RecordCategory

    started = time.perf_counter()
    me, colleagues, device_id = make_staff()
    seeded = Seeded(user_id=me.pk, device_id=device_id)
    essentials: dict[str, list[str]] = {}
    for area, categories in MedicalDirection.objects.filter(in_area_checklist=True).values_list(
        "area", "essential_categories"
    ):
        essentials.setdefault(area, []).extend(categories)
    uploadable = [c for c in RecordCategory.values if c != RecordCategory.REVIEWER_OPINION]
    surname_weights = [1 / (rank + 5) for rank in range(len(SURNAMES))]
    now = datetime.now(UTC)
    references = unique_references(count)

    for start in range(0, count, BATCH):
        cases: list[Case] = []
        records: list[Record] = []
        for ref in references[start : start + BATCH]:
            # More enquiries lately than two years ago.
            age = timedelta(days=730 * (1 - math.sqrt(rng.random())))
            submitted = now - age
            age_days = age.total_seconds() / 86400
            status = status_for(rng, age_days)
            area = weighted(rng, AREA_WEIGHTS)
            draw = rng.random()
            if status == "submitted" and draw < 0.5:
                coordinator_id = None
                seeded.unassigned += 1
            elif draw < 1 / 3 or (status == "submitted" and draw < 0.5 + 1 / 6):
                coordinator_id = me.pk
                seeded.mine += 1
            else:
                coordinator_id = rng.choice(colleagues).pk
            surname = rng.choices(SURNAMES, weights=surname_weights)[0]
            seeded.surname_matches += surname == SEARCH_SURNAME
            deadline = (
                (submitted + timedelta(days=rng.randint(14, 120))).date()
                if rng.random() < 0.3
                else None
            )
            quiet = timedelta(days=rng.uniform(0, min(age_days, 60)))
            cases.append(
                Case(
                    reference=ref,
                    status=status,
                    assigned_coordinator_id=coordinator_id,
                    submitted_by_family=rng.random() < 0.25,
                    contact_name=f"{rng.choice(FIRST_NAMES)} {surname}",
                    contact_email=f"{ref.lower()}@example.org",
                    contact_phone=f"07700 9{rng.randint(0, 99999):05d}",
                    patient_name=f"{rng.choice(FIRST_NAMES)} {surname}",
                    patient_date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randint(0, 29000)),
                    current_provider=rng.choice(PROVIDERS),
                    medical_area=area,
                    diagnosis="Diagnosis as the patient describes it. " * rng.randint(1, 6),
                    treatment_so_far="Treatment so far. " * rng.randint(0, 5),
                    questions=["Is treatment in China possible?", "What would it involve?"],
                    goal=rng.choice(["information", "treatment", "travel"]),
                    decision_deadline=deadline,
                    submitted_at=submitted,
                    last_patient_activity_at=submitted + quiet,
                )
            )
            seeded.status[status] += 1
            wanted = essentials.get(area) or uploadable
            first_record = len(records)
            for n in range(weighted(rng, RECORDS_PER_CASE)):
                category = rng.choice(wanted) if rng.random() < 0.7 else rng.choice(uploadable)
                records.append(
                    Record(
                        case_id=ref,
                        category=category,
                        original_name=f"{category}-{n + 1}.pdf",
                        original=f"records/{ref}/{n}/original",
                        size=rng.randint(20_000, 8_000_000),
                        sha256=f"{rng.getrandbits(256):064x}",
                        sniffed_type="application/pdf",
                        state=weighted(rng, RECORD_STATES),
                        created_at=submitted + timedelta(hours=rng.uniform(0, 24 * 20)),
                    )
                )
            # What cases.records.case_completeness_refresh stores, from the same records.
            kept = {r.category for r in records[first_record:] if r.state != "rejected"}
            checklist = set(essentials.get(area, []))
            cases[-1].essentials_total = len(checklist)
            cases[-1].essentials_missing = len(checklist - kept)
        Case.objects.bulk_create(cases, batch_size=BATCH)
        Record.objects.bulk_create(records, batch_size=BATCH)
        seeded.cases += len(cases)
        seeded.records += len(records)
    seeded.seconds = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    seeded.vacuum_seconds = time.perf_counter() - started
    return seeded


def sign_in(seeded: Seeded) -> str:
    """A session with both factors verified, as the OTP login would leave it."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=seeded.user_id)
    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store["otp_device_id"] = seeded.device_id
    store.create()
    return str(store.session_key)


# --- gunicorn and the HTTP measurements --------------------------------------------------


@contextmanager
def gunicorn(env: dict[str, str], workers: int, tmp: Path) -> Iterator[int]:
    port = free_port()
    log = tmp / "gunicorn.log"
    command = gunicorn_sync(port, workers, 120, log)
    with open(tmp / "gunicorn-stdout.log", "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{tail(log)}")
            if get(port, "/healthz/", "", timeout=2.0)[0]:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer within 60 s:\n{tail(log)}")
            time.sleep(0.2)
        yield port
    finally:
        stop(proc)


def get(port: int, path: str, session: str, timeout: float = 60.0) -> tuple[int, bytes, str]:
    """One ``GET`` on a new connection: (status, body, Location); status 0 if it failed."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Accept": "text/html", "User-Agent": "medchina-bench-queue"}
        if session:
            headers["Cookie"] = f"sessionid={session}"
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("Location") or ""
    except OSError:
        return 0, b"", ""
    finally:
        conn.close()


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)
    error: str = ""


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (``nan`` when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def time_page(port: int, path: str, session: str, args: argparse.Namespace) -> Timing:
    """Warm-ups, then timed requests until ``--requests`` or the page's time budget.

    A page slower than a tenth of the budget gets one warm-up only, and at least 5 timed
    requests, so one very slow page cannot stretch the run by much.
    """
    timing = Timing()
    warmups = 0
    budget_end: float | None = None
    while len(timing.samples_ms) < args.requests:
        started = time.perf_counter()
        status, body, location = get(port, path, session)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if status != 200 or b"result_list" not in body:
            timing.error = f"HTTP {status} {location}".strip() + (
                "" if status != 200 else " (no result_list)"
            )
            return timing
        if warmups < args.warmup:
            warmups += 1
            if elapsed_ms > args.page_budget * 100:  # over a tenth of the budget
                warmups = args.warmup
            continue
        timing.samples_ms.append(elapsed_ms)
        budget_end = budget_end or time.monotonic() + args.page_budget
        if time.monotonic() > budget_end and len(timing.samples_ms) >= 5:
            break
    return timing


# --- In-process: queries, plans, candidate indexes ---------------------------------------


@dataclass
class Profile:
    queries: int = 0
    sql_ms: float = 0.0
    request_ms: float = 0.0
    slowest_ms: float = 0.0
    slowest_sql: str = ""
    count_ms: float = 0.0
    count_sql: str = ""
    matches: int | None = None
    error: str = ""


def profile_page(path: str, session: str) -> Profile:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    client.cookies["sessionid"] = session
    client.get(path)  # warm the process: imports, templates, first connection
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(path)
        request_ms = (time.perf_counter() - started) * 1000
    profile = Profile(request_ms=request_ms)
    if response.status_code != 200:
        profile.error = f"HTTP {response.status_code}"
        return profile
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    profile.queries = len(queries)
    profile.sql_ms = sum(ms for ms, _ in queries)
    profile.slowest_ms, profile.slowest_sql = max(queries, default=(0.0, ""))
    counts = [(ms, s) for ms, s in queries if is_case_count(s)]
    if counts:
        profile.count_ms, profile.count_sql = counts[0]
        with connection.cursor() as cursor:
            cursor.execute(profile.count_sql)
            profile.matches = int(cursor.fetchone()[0])
    return profile


def is_case_count(statement: str) -> bool:
    head = statement.lstrip().upper()
    return head.startswith("SELECT COUNT(*)") and '"CASES_CASE"' in head


def explain(statement: str) -> tuple[float, list[str]]:
    """Execution time (ms) and plan lines of ``EXPLAIN (ANALYZE, BUFFERS)``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        lines = [row[0] for row in cursor.fetchall()]
    ms = math.nan
    for line in lines:
        found = re.match(r"\s*Execution Time: ([\d.]+) ms", line)
        if found:
            ms = float(found.group(1))
    return ms, lines


def plan_summary(lines: list[str], limit: int = 28, width: int = 150) -> str:
    kept = [
        line
        for line in lines
        if not re.match(r"\s*(Buffers|Planning:|I/O Timings|Worker \d)", line)
    ]
    shown = [line if len(line) <= width else line[: width - 1] + "…" for line in kept[:limit]]
    if len(kept) > limit:
        shown.append(f"  … {len(kept) - limit} more plan lines")
    return "\n".join("      " + line for line in shown)


def scans(lines: list[str]) -> str:
    found = Counter(
        re.findall(r"(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)", "\n".join(lines))
    )
    return ", ".join(f"{kind} x{n}" for kind, n in found.most_common()) or "-"


def short_sql(statement: str, width: int = 220) -> str:
    flat = re.sub(r"\s+", " ", statement)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def diagnose(page: Page, profile: Profile) -> None:
    from django.db import connection

    statements = {"slowest query": profile.slowest_sql}
    if profile.count_sql and profile.count_sql != profile.slowest_sql:
        statements["paginator COUNT(*)"] = profile.count_sql
    elif profile.count_sql:
        statements = {"slowest query (the paginator COUNT(*))": profile.count_sql}
    baseline: dict[str, float] = {}
    for label, statement in statements.items():
        ms, lines = explain(statement)
        baseline[label] = ms
        print(f"  {label}: {short_sql(statement)}")
        print(f"    EXPLAIN ANALYZE: {ms:.1f} ms; scans: {scans(lines)}")
        print(plan_summary(lines))
    for candidate in page.candidates:
        indexes = re.findall(r"INDEX (\w+)", candidate)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for part in candidate.split("; "):
                cursor.execute(part)
            cursor.execute("ANALYZE cases_case")
            cursor.execute("ANALYZE cases_record")
        build_s = time.perf_counter() - started
        try:
            print(f"  with candidate index (built in {build_s:.1f} s): {candidate}")
            for label, statement in statements.items():
                ms, lines = explain(statement)
                print(
                    f"    {label}: {baseline[label]:.1f} ms -> {ms:.1f} ms; scans: {scans(lines)}"
                )
        finally:
            with connection.cursor() as cursor:
                for index in indexes:
                    drop = sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index))
                    cursor.execute(drop.as_string())


# --- Reporting ---------------------------------------------------------------------------


def machine_line(args: argparse.Namespace) -> str:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    pg_version = row[0] if row else "?"
    return (
        f"machine: nproc={nproc}, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, load average {load}\n"
        f"python {platform.python_version()}, Django {importlib.metadata.version('django')}, "
        f"PostgreSQL {pg_version}, gunicorn {importlib.metadata.version('gunicorn')} "
        f"({args.workers} sync workers), DATABASE_CONN_MAX_AGE={args.conn_max_age}\n"
        f"load: sequential GETs, {args.warmup} warm-ups + {args.requests} timed per page "
        f"(timed ones stop after {args.page_budget:g} s, at least 5), new connection each, "
        "connect -> last byte"
    )


def report_seed(seeded: Seeded, migrate_s: float) -> None:
    total = seeded.cases
    open_cases = sum(n for s, n in seeded.status.items() if s in OPEN_WEIGHTS)
    print(f"migrate: {migrate_s:.1f} s")
    print(
        f"seeded {seeded.cases:,} cases and {seeded.records:,} records in {seeded.seconds:.1f} s "
        f"({(seeded.cases + seeded.records) / seeded.seconds:,.0f} rows/s); "
        f"VACUUM (ANALYZE) {seeded.vacuum_seconds:.1f} s"
    )
    print(
        f"  open {open_cases:,} ({open_cases / total:.0%}); "
        + ", ".join(f"{s} {n:,}" for s, n in seeded.status.most_common())
    )
    print(
        f"  assigned to the benchmark coordinator {seeded.mine:,} ({seeded.mine / total:.0%}), "
        f"unassigned {seeded.unassigned:,}, the rest over 20 colleagues; "
        f"patients named {SEARCH_SURNAME}: {seeded.surname_matches:,}"
    )


def report(timings: dict[str, Timing], profiles: dict[str, Profile]) -> list[Page]:
    header = (
        f"{'page':<12}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}"
        f"{'sql ms':>8}{'slowest':>9}{'COUNT ms':>10}{'matches':>9}  result"
    )
    print(header)
    print("-" * len(header))
    missed: list[Page] = []
    for page in PAGES:
        timing, profile = timings[page.key], profiles[page.key]
        values = sorted(timing.samples_ms)
        p95 = percentile(values, 95)
        ok = not timing.error and not profile.error and p95 <= TARGET_P95_MS
        if not ok:
            missed.append(page)
        matches = "-" if profile.matches is None else f"{profile.matches:,}"
        print(
            f"{page.key:<12}{len(values):>4}{percentile(values, 50):>9.1f}{p95:>9.1f}"
            f"{(values[-1] if values else math.nan):>9.1f}{profile.queries:>9}"
            f"{profile.sql_ms:>8.1f}{profile.slowest_ms:>9.1f}{profile.count_ms:>10.1f}"
            f"{matches:>9}  {'PASS' if ok else 'MISS'}"
        )
        for problem in (timing.error, profile.error):
            if problem:
                print(f"{'':<12}error: {problem}")
    print(
        "\n(p50/p95/max over HTTP via gunicorn; queries, sql ms, slowest and COUNT ms from one "
        "in-process request with CaptureQueriesContext; matches = the paginator's COUNT(*); "
        f"target p95 <= {TARGET_P95_MS:g} ms)"
    )
    for page in PAGES:
        print(f"  {page.key:<12}{page.path}")
    return missed


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--cases", type=int, default=100_000, help="cases to seed")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="uncounted requests per page")
    parser.add_argument(
        "--page-budget", type=float, default=45.0, help="seconds of timed requests per page"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="DATABASE_CONN_MAX_AGE for the app"
    )
    parser.add_argument("--seed", type=int, default=20260101, help="random seed for the data")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--explain-all", action="store_true", help="plans and candidate indexes for every page"
    )
    args = parser.parse_args(argv)
    if args.cases < 1000 or args.requests < 1 or args.warmup < 0 or args.workers < 1:
        parser.error("--cases >= 1000, --requests >= 1, --warmup >= 0, --workers >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(machine_line(args), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="medchina-bench-queue-"))
    env = bench_env(tmp, args)
    os.environ.update(env)
    (tmp / "private" / ".incoming").mkdir(mode=0o700, parents=True, exist_ok=True)
    created = False
    started = time.perf_counter()
    try:
        create_database()
        created = True
        migrate_s = migrate(env)

        import django

        django.setup()
        seeded = seed(args.cases, random.Random(args.seed))  # noqa: S311 (test data)
        report_seed(seeded, migrate_s)
        session = sign_in(seeded)

        from django.db import connections

        connections.close_all()  # the server gets the database to itself while timed
        timings: dict[str, Timing] = {}
        with gunicorn(env, args.workers, tmp) as port:
            for page in PAGES:
                timings[page.key] = time_page(port, page.path, session, args)
        profiles = {page.key: profile_page(page.path, session) for page in PAGES}
        print()
        missed = report(timings, profiles)
        for page in PAGES if args.explain_all else missed:
            profile = profiles[page.key]
            if not profile.slowest_sql:
                continue
            print(f"\n== {page.key}: {page.path}")
            print(
                f"  in-process request {profile.request_ms:.1f} ms, of which SQL "
                f"{profile.sql_ms:.1f} ms in {profile.queries} queries"
            )
            diagnose(page, profile)
        verdict = "PASS" if not missed else f"MISS ({', '.join(p.key for p in missed)})"
        print(f"\nqueue target p95 <= {TARGET_P95_MS:g} ms: {verdict}")
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if created and not args.keep:
            drop_database()
        elif created:
            print(f"kept database {DB_NAME}: DATABASE_URL={PG_SERVER}/{DB_NAME}")
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
