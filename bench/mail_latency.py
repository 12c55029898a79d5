"""Sign-in e-mail delivery while heavy work runs: do the queues keep people first?

Issue 10 measured a sign-in e-mail taking 47.7 s (1.2 s idle) while two 120-page TIFFs
were checked, because e-mail, checks and case files shared one pool of two processes.

What it does
    1. Setup (not timed). A throw-away PostgreSQL database on the server in
       ``BENCH_PG_SERVER`` (default postgres://postgres@127.0.0.1:5432), a private
       ``redis-server`` on a free port (no persistence) as broker and cache, e-mail to a
       folder (``filemail://``). ``migrate``; a case with its patient; ``--tiffs`` scanned
       TIFFs of ``--tiff-pages`` pages each (1700 x 2200 grey, scan-like), added as records
       without checks; ``--pdfs`` record PDFs of 20 text pages each, checked now, so a case
       file of about 250 pages can be built from them.
    2. Workers, as in production (``--shape split``, the default): a ``mail`` worker
       (1 process, normal priority) and a heavy worker for ``checks,redact,render``
       (1 process, ``MEDCHINA_WORKER_NICE=10``). ``--shape shared`` starts the old shape
       instead: one worker for every queue with 2 processes, no nice.
    3. The heavy work is enqueued at once: a check for each TIFF and an internal case file.
       While any of it is still running, one sign-in link is asked for every
       ``--interval`` seconds (the task the sign-in page enqueues), and the time until the
       e-mail file appears is its delivery time. At least ``--samples`` are taken.
    4. Prints the machine, the load average at the start, delivery p50/p95/max, how long
       the heavy work took, and PASS/MISS against the target: p95 <= 3 s.

How to run (from the project root)
    .venv/bin/python bench/mail_latency.py
    .venv/bin/python bench/mail_latency.py --shape shared     # the old single pool
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ first on the path, where bench/queue.py would hide
# the standard library's queue module: the project root takes its place.
sys.path[0] = str(BASE_DIR)

from bench.common import free_port, stop, tail  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DB_NAME = f"medchina_bench_mail_{os.getpid()}"
PATIENT_EMAIL = "bench.patient@example.org"
TARGET_P95 = 3.0


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def server_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


@contextlib.contextmanager
def database() -> Iterator[str]:
    server_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    server_admin(f'CREATE DATABASE "{DB_NAME}"')
    try:
        yield f"{PG_SERVER}/{DB_NAME}"
    finally:
        server_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(proc)


def bench_env(tmp: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "medchina.settings",
        "DJANGO_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "CACHE_URL": f"{redis_url}/1",
        "EMAIL_URL": f"filemail://{tmp / 'mail'}",
        "MEDCHINA_VAR_DIR": str(tmp / "var"),
        "MEDCHINA_PRIVATE_STORAGE_ROOT": str(tmp / "private"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def make_tiff(pages: int, seed: int) -> bytes:
    """A scan-like multi-page TIFF: grey paper, dark text-like strokes, some noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    width, height = 1700, 2200
    frames = []
    for page in range(pages):
        # Flat paper with lines of "text" (short dark runs), as a 200 dpi grey scan of a
        # typed letter compresses: a few hundred kilobytes a page.
        paper = np.full((height, width), 238, dtype=np.uint8)
        for line in range(60):
            y = 150 + line * 32
            if y + 12 >= height - 100:
                break
            x = 150
            end = 150 + int(rng.integers(600, 1400))
            while x < end:
                word = int(rng.integers(20, 90))
                paper[y : y + 12, x : x + word] = 40
                x += word + 12
        paper[60:80, 150 : 150 + (page % 50) * 20] = 0
        frames.append(Image.fromarray(paper, mode="L"))
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:],
                   compression="tiff_deflate")  # fmt: skip
    return out.getvalue()


def seed(args: argparse.Namespace) -> dict[str, object]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile

    from bench.case_file import make_record_pdf
    from cases.models import Case, Goal, MedicalArea, Membership, Record
    from cases.people import user_get_or_create_for_email
    from cases.records.processing import record_process
    from cases.records.services import record_add

    patient = user_get_or_create_for_email(email=PATIENT_EMAIL, name="Bench Patient")
    coordinator = get_user_model().objects.create_user(
        username="bench-coordinator", email="coordinator@example.org", is_staff=True
    )
    case = Case.objects.create(
        contact_name="Bench Patient",
        contact_email=PATIENT_EMAIL,
        contact_phone="+447700900123",
        patient_name="Bench Patient",
        patient_date_of_birth=date(1961, 4, 12),
        nhs_number="9434765919",
        current_provider="Leeds Teaching Hospitals NHS Trust",
        medical_area=MedicalArea.CANCER,
        diagnosis="Sigmoid adenocarcinoma with two liver metastases",
        goal=Goal.INFORMATION,
    )
    Membership.objects.create(
        case=case, user=patient, role=Membership.Role.PATIENT, can_view_all_records=True
    )
    tiffs = []
    for number in range(args.tiffs):
        added = record_add(
            case=case,
            file=ContentFile(make_tiff(args.tiff_pages, number), name=f"scan-{number}.tiff"),
            category="other",
            uploaded_by=patient,
            run_checks=False,
        )
        if added.record is None:
            raise SystemExit(f"TIFF {number} not added: {added.error}")
        tiffs.append(added.record.pk)
    for number in range(args.pdfs):
        added = record_add(
            case=case,
            file=ContentFile(make_record_pdf(number), name=f"letter-{number}.pdf"),
            category="diagnosis_letter",
            uploaded_by=patient,
            run_checks=False,
        )
        record_process(record_id=added.record.pk)
    ready = Record.objects.filter(case=case, state=Record.State.READY).count()
    return {"case_id": case.pk, "tiffs": tiffs, "coordinator_id": coordinator.pk, "ready": ready}


@contextlib.contextmanager
def workers(shape: str, env: dict[str, str], tmp: Path) -> Iterator[None]:
    common = ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    if shape == "split":
        plan = [
            ("mail", ["--queues", "mail", "--concurrency", "1"], {}),
            ("heavy", ["--queues", "checks,redact,render", "--concurrency", "1"],
             {"MEDCHINA_WORKER_NICE": "10"}),
        ]  # fmt: skip
    else:
        plan = [("shared", ["--queues", "mail,checks,redact,render", "--concurrency", "2"], {})]
    procs = []
    try:
        for name, flags, extra in plan:
            log = tmp / f"worker-{name}.log"
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "medchina", "worker",
                 "--hostname", f"{name}@bench", *flags, *common],
                cwd=BASE_DIR, env={**os.environ, **env, **extra},
                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            procs.append((proc, log))
        deadline = time.monotonic() + 90
        for proc, log in procs:
            while "ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"a worker did not start:\n{tail(log)}")
                time.sleep(0.1)
        yield
    finally:
        for proc, _ in procs:
            stop(proc)


def mail_count(folder: Path) -> int:
    return sum(1 for _ in folder.iterdir()) if folder.exists() else 0


def heavy_running(seeded: dict[str, object], case_file_id: int) -> bool:
    from cases.models import CaseFile, Record

    waiting = Record.objects.filter(
        pk__in=seeded["tiffs"], state__in=[Record.State.RECEIVED, Record.State.CHECKING]
    ).exists()
    rendering = CaseFile.objects.filter(
        pk=case_file_id, state__in=[CaseFile.State.QUEUED, CaseFile.State.RENDERING]
    ).exists()
    return waiting or rendering


def run(args: argparse.Namespace, tmp: Path) -> int:
    with database() as database_url, redis_server(tmp) as redis_url:
        env = bench_env(tmp, database_url, redis_url)
        os.environ.update(env)
        (tmp / "mail").mkdir()
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=BASE_DIR, env={**os.environ}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"migrate failed:\n{done.stdout}\n{done.stderr}")
        started = time.perf_counter()
        seeded = seed(args)
        print(f"setup: {time.perf_counter() - started:.1f} s; {seeded['ready']} record PDFs ready")

        from django.contrib.auth import get_user_model
        from django.db import close_old_connections

        from cases.casefile.services import case_file_request
        from cases.models import Case, CaseFile, Record
        from cases.tasks import record_check, sign_in_link_request

        with workers(args.shape, env, tmp):
            # Idle figure first: three links with nothing else queued.
            idle = [deliver_one(tmp / "mail", sign_in_link_request) for _ in range(3)]
            load = os.getloadavg()
            print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            heavy_started = time.perf_counter()
            for record_id in seeded["tiffs"]:
                record_check.delay(record_id)
            case = Case.objects.get(pk=seeded["case_id"])
            coordinator = get_user_model().objects.get(pk=seeded["coordinator_id"])
            case_file = case_file_request(case=case, variant="internal", by=coordinator)
            samples: list[float] = []
            deadline = time.monotonic() + args.time_limit
            while time.monotonic() < deadline:
                close_old_connections()
                running = heavy_running(seeded, case_file.pk)
                if not running and len(samples) >= args.samples:
                    break
                if not running:
                    print("heavy work finished before enough samples; add pages")
                    break
                asked = time.monotonic()
                samples.append(deliver_one(tmp / "mail", sign_in_link_request))
                time.sleep(max(0.0, args.interval - (time.monotonic() - asked)))
            while heavy_running(seeded, case_file.pk) and time.monotonic() < deadline:
                time.sleep(0.5)
            heavy_s = time.perf_counter() - heavy_started
            case_file.refresh_from_db()
            states = list(
                Record.objects.filter(pk__in=seeded["tiffs"]).values_list("state", "page_count")
            )
        return report(args, idle, samples, heavy_s, case_file, states, CaseFile)


def deliver_one(folder: Path, task) -> float:
    before = mail_count(folder)
    asked = time.perf_counter()
    task.delay(PATIENT_EMAIL, None)
    deadline = time.monotonic() + 300
    while mail_count(folder) <= before:
        if time.monotonic() > deadline:
            return float("inf")
        time.sleep(0.02)
    return time.perf_counter() - asked


def report(args, idle, samples, heavy_s, case_file, states, CaseFile) -> int:
    print(f"machine: {platform.node()} {platform.machine()}, nproc={os.cpu_count()}, "
          f"Python {platform.python_version()}, shape={args.shape}")  # fmt: skip
    print(f"heavy work: {args.tiffs} TIFFs x {args.tiff_pages} pages -> {states}; case file "
          f"{case_file.state} ({case_file.page_count} pages, {case_file.duration_ms} ms); "
          f"all done after {heavy_s:.1f} s")  # fmt: skip
    print(f"idle delivery: {', '.join(f'{s:.2f}' for s in idle)} s")
    if not samples:
        print("no samples taken")
        return 1
    p50, p95, worst = percentile(samples, 50), percentile(samples, 95), max(samples)
    print(f"sign-in e-mail delivery while heavy work runs ({len(samples)} samples): "
          f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s")  # fmt: skip
    ok = p95 <= TARGET_P95
    print(f"target p95 <= {TARGET_P95:.0f} s: {'PASS' if ok else 'MISS'}")
    return 0 if ok else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", choices=["split", "shared"], default="split")
    parser.add_argument("--tiffs", type=int, default=2)
    parser.add_argument("--tiff-pages", type=int, default=120)
    parser.add_argument("--pdfs", type=int, default=12, help="20-page record PDFs")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--time-limit", type=float, default=600)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is needed (Debian package redis-server)")
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as folder:
        return run(args, Path(folder))


if __name__ == "__main__":
    raise SystemExit(main())
