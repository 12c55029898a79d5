"""Open-loop latency benchmark of the public pages under gunicorn, production settings.

What it measures
    For each path (default ``/`` and ``/start/``) the latency of ``GET`` requests sent at
    a constant rate (default 100 requests/second) for a fixed time (default 20 s), after a
    short warm-up that is not counted. The load is *open-loop*: every request has a
    scheduled send time ``t0 + i / rate`` and is sent then whether or not earlier ones
    have been answered, and its latency runs from that scheduled time to the end of the
    response. A stalled server therefore shows up in the figures instead of quietly
    slowing the generator down (no coordinated omission).

    The app runs under gunicorn (sync workers, default 2) on 127.0.0.1 with
    ``DJANGO_ENV=production``, a throw-away SQLite database, ``collectstatic`` output for
    whitenoise's manifest storage, and the in-memory Celery broker, all in a temporary
    directory that is removed afterwards. Plain HTTP is fine for these GET pages
    (``DJANGO_SECURE_SSL_REDIRECT=false``).

    Before the app, the same generator is pointed at a trivial WSGI app under the same
    gunicorn set-up ("calibration"): that is the floor of gunicorn + loopback + this
    generator, and its send lag shows whether the generator keeps its schedule.

    Client and server share the machine, so the generator's own CPU use is part of the
    picture; it is a single asyncio loop with raw sockets, a few percent of one core at
    100 requests/second.

How to run (from the project root)
    .venv/bin/python bench/web_latency.py
    .venv/bin/python bench/web_latency.py --rate 200 --duration 30 --workers 3
    .venv/bin/python bench/web_latency.py --path / --no-calibrate

Only loopback addresses are used; the run is bounded in time and always stops gunicorn.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.metadata
import json
import math
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# bench/ goes to the end of the path: bench/queue.py must not hide the standard library's
# ``queue`` (psycopg and concurrent.futures import it).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.append(sys.path.pop(0))

from common import HOST, free_port, manage, stop, tail

BASE_DIR = Path(__file__).resolve().parent.parent

TRIVIAL_APP = '''\
"""A WSGI app that does nothing: the floor for gunicorn and the load generator."""


def application(environ, start_response):
    body = b"ok\\n"
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]
'''


# --- Measuring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: when it was due, how late it was sent, how long until answered."""

    scheduled: float  # loop clock, seconds
    send_lag: float  # actual send time minus scheduled time, seconds
    latency: float  # end of response (or failure) minus scheduled time, seconds
    status: int  # HTTP status; 0 when there was no complete response
    error: str  # "" for a complete response


@dataclass(frozen=True)
class Summary:
    label: str
    sent: int
    achieved_rate: float
    errors: int
    error_kinds: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    send_lag_p99_ms: float
    send_lag_max_ms: float


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (``nan`` when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Target:
    """What one measurement sends: a method and path, optionally as one of several
    signed-in sessions (taken in turn) with a form body, and the status that is success."""

    label: str
    path: str
    method: str = "GET"
    sessions: tuple[str, ...] = ()
    body: str = ""
    expect: int = 200

    def request(self, index: int, port: int) -> bytes:
        headers = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "User-Agent: medchina-bench",
            "Accept: text/html",
            "Connection: close",
        ]
        if self.sessions:
            # Django accepts an unmasked 32-character secret as the CSRF token.
            headers.append(
                f"Cookie: sessionid={self.sessions[index % len(self.sessions)]}; "
                f"csrftoken={CSRF_SECRET}"
            )
        body = self.body.replace("{csrf}", CSRF_SECRET).encode()
        if self.method == "POST":
            headers += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        return ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + body


CSRF_SECRET = "benchcsrfsecretbenchcsrfsecret12"  # noqa: S105 (32 characters, as Django's)


async def fetch(
    port: int, path: str | Target, scheduled: float, timeout: float, index: int = 0
) -> Sample:
    """Send one request on a fresh connection and read the response to the end."""
    target = path if isinstance(path, Target) else Target(path, path)
    loop = asyncio.get_running_loop()
    sent = loop.time()
    status = 0
    error = ""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(target.request(index, port))
            await writer.drain()
            raw = await reader.read()  # the server closes the connection after the response
        head, separator, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if not separator or not lines[0].startswith(b"HTTP/1."):
            error = "malformed response"
        else:
            status = int(lines[0].split()[1])
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(b":") for line in lines[1:])
            }
            length = headers.get(b"content-length")
            if length is not None and int(length) != len(body):
                error = "truncated response"
            elif status != target.expect:
                error = f"HTTP {status}"
    except TimeoutError:
        error = "timeout"
    except OSError as exc:
        error = type(exc).__name__
    finally:
        if writer is not None:
            writer.close()
    return Sample(scheduled, sent - scheduled, loop.time() - scheduled, status, error)


async def open_loop(
    port: int,
    path: str | Target,
    rate: float,
    duration: float,
    timeout: float,
    max_inflight: int,
) -> tuple[list[Sample], float]:
    """Send ``rate * duration`` requests at fixed times; return samples and send span."""
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * duration))
    start = loop.time() + 0.05
    tasks: list[asyncio.Task[Sample]] = []
    inflight: set[asyncio.Task[Sample]] = set()
    refused: list[Sample] = []
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(inflight) >= max_inflight:
            # Safety valve, never hit in a healthy run: count it, do not open a socket.
            refused.append(Sample(due, loop.time() - due, math.inf, 0, "client in-flight cap"))
            continue
        task = asyncio.create_task(fetch(port, path, due, timeout, i))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        tasks.append(task)
    send_span = loop.time() - start
    samples = list(await asyncio.gather(*tasks)) + refused
    return samples, send_span


def summarise(label: str, samples: list[Sample], send_span: float, rate: float) -> Summary:
    latencies = sorted(s.latency for s in samples)
    lags = sorted(s.send_lag for s in samples)
    errors = Counter(s.error for s in samples if s.error)
    # Sent over the time from the first due time to the last send, plus one interval.
    achieved = len(samples) / (send_span + 1 / rate) if samples else 0.0
    return Summary(
        label=label,
        sent=len(samples),
        achieved_rate=achieved,
        errors=sum(errors.values()),
        error_kinds=dict(errors),
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=latencies[-1] * 1000 if latencies else math.nan,
        send_lag_p99_ms=percentile(lags, 99) * 1000,
        send_lag_max_ms=lags[-1] * 1000 if lags else math.nan,
    )


def measure(
    label: str, port: int, path: str | Target, args: argparse.Namespace, rate: float | None = None
) -> Summary:
    rate = rate or args.rate
    print(f"  {label} at {rate:g} req/s: load average {load_average()}", flush=True)
    if args.warmup > 0:
        asyncio.run(open_loop(port, path, rate, args.warmup, args.timeout, args.max_inflight))
    samples, span = asyncio.run(
        open_loop(port, path, rate, args.duration, args.timeout, args.max_inflight)
    )
    return summarise(label, samples, span, rate)


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


# --- The server --------------------------------------------------------------------------


def production_env(tmp: Path, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "medchina.settings",
            "DJANGO_ENV": "production",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CELERY_BROKER_URL": args.redis_url or f"filesystem://{tmp / 'broker'}",
            "CACHE_URL": args.cache_url or "locmemcache://bench",
            "DJANGO_STATIC_ROOT": str(tmp / "static"),
            "MEDCHINA_VAR_DIR": str(tmp),
            "MEDCHINA_PRIVATE_STORAGE_ROOT": str(tmp / "private"),
            "EMAIL_URL": "consolemail://",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


SECRET_KEY = secrets.token_urlsafe(50)

SEED_SESSIONS = """
import json
from datetime import date
from importlib import import_module

from django.conf import settings

from cases.models import Case, Goal, MedicalArea, Membership
from cases.services import user_get_or_create_for_email
from intake.models import EnquiryDraft

Store = import_module(settings.SESSION_ENGINE).SessionStore
wizard, portal = [], []
for number in range(COUNT):
    # Half-way through an enquiry: the safety check passed, a draft saved.
    store = Store()
    store["safety_check_passed"] = True
    store["enquiry_draft_id"] = str(EnquiryDraft.objects.create().pk)
    store.save()
    wizard.append(store.session_key)
    # A patient with a case, signed in.
    email = f"bench-portal-{number}@example.org"
    case = Case.objects.create(
        contact_name="Bench Patient", contact_email=email, contact_phone="+447700900123",
        patient_name="Bench Patient", patient_date_of_birth=date(1970, 5, 17),
        current_provider="Bench Hospital", medical_area=MedicalArea.CANCER,
        diagnosis="Benchmark case", questions=["Benchmark question"], goal=Goal.INFORMATION,
    )
    user = user_get_or_create_for_email(email=email, name="Bench Patient")
    Membership.objects.create(case=case, user=user, role=Membership.Role.PATIENT)
    store = Store()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store.save()
    portal.append(store.session_key)
print(json.dumps({"wizard": wizard, "portal": portal}))
"""


def prepare(env: dict[str, str], sessions: int) -> dict[str, list[str]]:
    """Create the folders, database and static manifest the production settings expect,
    and the signed-in sessions the wizard and portal requests use."""
    private = Path(env["MEDCHINA_PRIVATE_STORAGE_ROOT"])
    # Production provisions these; the system checks refuse a missing upload temp dir.
    (private / ".incoming").mkdir(mode=0o700, parents=True, exist_ok=True)
    if env["CELERY_BROKER_URL"].startswith("filesystem://"):
        (Path(env["MEDCHINA_VAR_DIR"]) / "broker").mkdir(exist_ok=True)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    out = manage(env, "shell", "-c", SEED_SESSIONS.replace("COUNT", str(sessions)))
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


@contextmanager
def throwaway_postgres(server: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database on ``server`` for this run; dropped afterwards."""
    if not server:
        yield None
        return
    import psycopg

    name = f"medchina_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def probe(port: int, path: str) -> int:
    """The status of one request sent now (0 when nothing answered)."""
    return (await fetch(port, path, asyncio.get_running_loop().time(), 2.0)).status


def wait_until_ready(proc: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}:\n{tail(log)}")
        if asyncio.run(probe(port, path)):
            return
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer on {HOST}:{port} within 60 s:\n{tail(log)}")


def compose_commands() -> dict[str, list[str]]:
    """Each service's command in docker-compose.yml: the bench runs what production runs."""
    import yaml

    spec = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    return {
        name: [str(part) for part in service["command"]]
        for name, service in spec.get("services", {}).items()
        if isinstance(service.get("command"), list)
    }


def web_command(app: str, port: int, args: argparse.Namespace) -> list[str]:
    """gunicorn as the Compose ``web`` service runs it, bound to loopback here."""
    if args.workers:
        # --threads 1: sync workers; more: gthread.
        return [
            "gunicorn",
            app,
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread" if args.threads > 1 else "sync",
            "--threads",
            str(args.threads),
        ]
    command = compose_commands()["web"]
    out: list[str] = []
    skip = False
    for part in command:
        if skip:
            skip = False
            continue
        if part in {"--bind", "-b", "--access-logfile"}:
            skip = True
            continue
        out.append(app if part == "medchina.wsgi:application" else part)
    return out


def worker_commands() -> list[list[str]]:
    """The Celery worker services of docker-compose.yml (not beat)."""
    return [
        command
        for name, command in compose_commands().items()
        if "celery" in command and "worker" in command
    ]


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], args: argparse.Namespace, tmp: Path, name: str, probe: str
) -> Iterator[int]:
    port = free_port()
    log = tmp / f"{name}-gunicorn.log"
    base = web_command(app, port, args)
    command = [
        sys.executable,
        "-m",
        *base,
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(BASE_DIR),
        "--pythonpath",
        str(tmp),
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    if args.access_log:
        command += ["--access-logfile", str(tmp / f"{name}-access.log")]
    with open(tmp / f"{name}-stdout.log", "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(proc, port, probe, log)
        print(f"web: {' '.join(base)}", flush=True)
        yield port
    finally:
        stop(proc)
        if args.show_logs:
            print(f"--- {name}: gunicorn log tail ---\n{tail(log)}")


# --- Case files rendering in the background --------------------------------------------

RENDERER = """
import json, sys, time
from pathlib import Path
sys.path.append(BENCH)
from case_file import django_setup, seed
django_setup()
from django.contrib.auth import get_user_model
from cases.casefile.services import case_file_request
from cases.models import Case, CaseFile
setup = seed(PARAGRAPHS, Path(INPUTS))
case = Case.objects.get(pk=setup.case_reference)
coordinator = get_user_model().objects.get(username="bench-coordinator")
print(json.dumps({"ready": case.reference}), flush=True)
stop = Path(STOP)
while not stop.exists():
    # Keep one render queued or running all the time.
    case_file_request(case=case, variant=CaseFile.Variant.INTERNAL, by=coordinator,
                      regenerate=True)
    time.sleep(0.2)
ready = CaseFile.objects.filter(state=CaseFile.State.READY)
print(json.dumps({"rendered": ready.count(), "failed": CaseFile.objects.filter(
    state=CaseFile.State.FAILED).count(), "seconds": [f.duration_ms for f in ready][:50]}))
"""


@contextmanager
def rendering(env: dict[str, str], tmp: Path, args: argparse.Namespace) -> Iterator[dict]:
    """Celery workers as docker-compose.yml runs them, and a 252-page case file
    (bench/case_file.py's case) requested again as soon as the last one is done."""
    stop_file = tmp / "stop-rendering"
    code = (
        RENDERER.replace("BENCH", repr(str(Path(__file__).resolve().parent)))
        .replace("PARAGRAPHS", str(args.paragraphs))
        .replace("STOP", repr(str(stop_file)))
        .replace("INPUTS", repr(str(tmp / "render-inputs")))
    )
    workers = []
    for number, command in enumerate(worker_commands()):
        log = open(tmp / f"worker-{number}.log", "wb")  # noqa: SIM115 (closed below)
        executable = [sys.executable, "-m", "celery", *command[command.index("celery") + 1 :]]
        executable += ["--hostname", f"bench{number}@%h"]
        prefix = command[: command.index("celery")]  # e.g. "nice -n 10"
        workers.append(
            (
                subprocess.Popen(
                    prefix + executable,
                    cwd=BASE_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
                log,
            )
        )
        print(f"worker: {' '.join(command)}", flush=True)
    renderer = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    found: dict = {}
    try:
        assert renderer.stdout is not None
        for line in renderer.stdout:
            if line.startswith("{"):
                found.update(json.loads(line))
                break
        if "ready" not in found:
            sys.exit("the case-file renderer did not start")
        time.sleep(args.render_settle)  # the first render under way
        yield found
    finally:
        stop_file.touch()
        try:
            out, _ = renderer.communicate(timeout=120)
            for line in out.splitlines():
                if line.startswith("{"):
                    found.update(json.loads(line))
        except subprocess.TimeoutExpired:
            os.killpg(renderer.pid, signal.SIGKILL)
        for proc, log in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            log.close()


# --- Reporting ---------------------------------------------------------------------------


def machine_line(args: argparse.Namespace) -> str:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"machine: nproc={nproc}, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, load average {load_average()}\n"
        f"python {platform.python_version()}, Django {importlib.metadata.version('django')}, "
        f"gunicorn {importlib.metadata.version('gunicorn')}, access log "
        f"{'on' if args.access_log else 'off'}\n"
        f"database {'PostgreSQL (throw-away)' if args.postgres else 'SQLite'}, cache "
        f"{args.cache_url or 'local memory'}, broker {args.redis_url or 'filesystem'}\n"
        f"load: open-loop, {args.duration:g} s per page and rate (after {args.warmup:g} s "
        f"warm-up), new connection per request, timeout {args.timeout:g} s; latency = "
        f"scheduled send time -> end of response"
    )


def table(summaries: list[Summary]) -> str:
    header = (
        f"{'page':<40}{'sent':>7}{'rate/s':>8}{'errors':>8}"
        f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'lag p99/max ms':>17}"
    )
    rows = [header, "-" * len(header)]
    for s in summaries:
        rows.append(
            f"{s.label:<40}{s.sent:>7}{s.achieved_rate:>8.1f}{s.errors:>8}"
            f"{s.p50_ms:>9.1f}{s.p90_ms:>9.1f}{s.p99_ms:>9.1f}{s.max_ms:>9.1f}"
            f"{f'{s.send_lag_p99_ms:.1f}/{s.send_lag_max_ms:.1f}':>17}"
        )
        if s.error_kinds:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(s.error_kinds.items()))
            rows.append(f"{'':<40}errors: {kinds}")
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument(
        "--rates", default="", help="comma-separated rates for the full run, e.g. 100,200"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per page")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds first")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="gunicorn sync workers (0: the docker-compose.yml web command as it is)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads a worker with --workers (over 1: gthread)"
    )
    parser.add_argument(
        "--path",
        dest="paths",
        action="append",
        default=argparse.SUPPRESS,
        help="GET path to measure, repeatable (default: /, the wizard POST, the portal)",
    )
    parser.add_argument(
        "--postgres",
        default="",
        help="PostgreSQL server URL (e.g. postgres://postgres@127.0.0.1:5432): a "
        "throw-away database is made there; default SQLite",
    )
    parser.add_argument("--redis-url", default="", help="Celery broker (default filesystem)")
    parser.add_argument("--cache-url", default="", help="Django cache (default local memory)")
    parser.add_argument(
        "--render",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="measure again while Celery workers render case files",
    )
    parser.add_argument("--paragraphs", type=int, default=9, help="case-file summary size")
    parser.add_argument("--render-settle", type=float, default=5.0, help="s before measuring")
    parser.add_argument("--sessions", type=int, default=64, help="signed-in sessions per page")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout, s")
    parser.add_argument(
        "--max-inflight", type=int, default=1000, help="client-side cap on open requests"
    )
    parser.add_argument(
        "--calibrate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first measure a trivial WSGI app under the same gunicorn set-up",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="gunicorn access log to a file, as the Dockerfile logs every request",
    )
    parser.add_argument(
        "--show-logs", action="store_true", help="print the gunicorn error log tails"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or args.workers < 0:
        parser.error("--rate and --duration must be positive, --warmup and --workers >= 0")
    args.paths = getattr(args, "paths", None)
    args.rate_list = [float(r) for r in args.rates.split(",") if r] or [args.rate]
    return args


def targets(args: argparse.Namespace, sessions: dict[str, list[str]]) -> list[Target]:
    if args.paths:
        return [Target(path, path) for path in args.paths]
    return [
        Target("GET /", "/"),
        Target(
            "POST /start/who/ (wizard step)",
            "/start/who/",
            method="POST",
            sessions=tuple(sessions["wizard"]),
            body="csrfmiddlewaretoken={csrf}&filling_in_for=self&relationship=",
            expect=302,
        ),
        Target("GET /my/ (signed in)", "/my/", sessions=tuple(sessions["portal"])),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(machine_line(args), flush=True)
    idle: dict[tuple[str, float], Summary] = {}
    busy: dict[tuple[str, float], Summary] = {}
    calibration: list[Summary] = []
    tmp = Path(tempfile.mkdtemp(prefix="medchina-bench-"))
    rendered: dict = {}
    try:
        with throwaway_postgres(args.postgres) as database_url:
            args.database_url = database_url
            env = production_env(tmp, args)
            if args.calibrate:
                (tmp / "bench_trivial_app.py").write_text(TRIVIAL_APP)
                app = "bench_trivial_app:application"
                with gunicorn(app, env, args, tmp, "trivial", "/") as port:
                    for rate in args.rate_list:
                        calibration.append(
                            measure(f"(calibration) trivial @{rate:g}", port, "/", args, rate)
                        )
            sessions = prepare(env, args.sessions)
            pages = targets(args, sessions)
            with gunicorn("medchina.wsgi:application", env, args, tmp, "medchina", "/") as port:
                print("idle:", flush=True)
                for rate in args.rate_list:
                    for page in pages:
                        idle[page.label, rate] = measure(page.label, port, page, args, rate)
                if args.render:
                    with rendering(env, tmp, args) as rendered:
                        print("while case files render:", flush=True)
                        for rate in args.rate_list:
                            for page in pages:
                                busy[page.label, rate] = measure(page.label, port, page, args, rate)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def labelled(summary: Summary, suffix: str) -> Summary:
        return dataclasses.replace(summary, label=f"{summary.label} @{suffix}")

    print(
        table(
            calibration
            + [labelled(v, f"{k[1]:g} idle") for k, v in idle.items()]
            + [labelled(v, f"{k[1]:g} rendering") for k, v in busy.items()]
        )
    )
    if busy:
        print(
            f"case files rendered while measuring: {rendered.get('rendered', '?')} ready, "
            f"{rendered.get('failed', '?')} failed; render times (ms): "
            f"{rendered.get('seconds', [])}"
        )
        worst = 0.0
        for key, summary in busy.items():
            ratio = summary.p99_ms / idle[key].p99_ms
            worst = max(worst, ratio)
            print(f"p99 ratio rendering/idle, {key[0]} @{key[1]:g}/s: {ratio:.2f}")
        print(f"worst p99 ratio rendering/idle: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
