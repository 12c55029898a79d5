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
import importlib.metadata
import math
import os
import platform
import secrets
import shutil
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

from common import HOST, free_port, stop, tail

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


async def fetch(port: int, path: str, scheduled: float, timeout: float) -> Sample:
    """Send one ``GET`` on a fresh connection and read the response to the end."""
    loop = asyncio.get_running_loop()
    sent = loop.time()
    status = 0
    error = ""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                "User-Agent: medchina-bench\r\nAccept: text/html\r\n"
                "Connection: close\r\n\r\n".encode("ascii")
            )
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
            elif status != 200:
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
    port: int, path: str, rate: float, duration: float, timeout: float, max_inflight: int
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
        task = asyncio.create_task(fetch(port, path, due, timeout))
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


def measure(label: str, port: int, path: str, args: argparse.Namespace) -> Summary:
    if args.warmup > 0:
        asyncio.run(open_loop(port, path, args.rate, args.warmup, args.timeout, args.max_inflight))
    samples, span = asyncio.run(
        open_loop(port, path, args.rate, args.duration, args.timeout, args.max_inflight)
    )
    return summarise(label, samples, span, args.rate)


# --- The server --------------------------------------------------------------------------


def production_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "medchina.settings",
            "DJANGO_ENV": "production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CELERY_BROKER_URL": "memory://",
            # Production requires a shared cache; these GET pages never touch it.
            "CACHE_URL": "locmemcache://bench",
            "DJANGO_STATIC_ROOT": str(tmp / "static"),
            "MEDCHINA_VAR_DIR": str(tmp),
            "MEDCHINA_PRIVATE_STORAGE_ROOT": str(tmp / "private"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def prepare(env: dict[str, str]) -> None:
    """Create the folders, database and static manifest the production settings expect."""
    private = Path(env["MEDCHINA_PRIVATE_STORAGE_ROOT"])
    # Production provisions these; the system checks refuse a missing upload temp dir.
    (private / ".incoming").mkdir(mode=0o700, parents=True, exist_ok=True)
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


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


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], args: argparse.Namespace, tmp: Path, name: str, probe: str
) -> Iterator[int]:
    port = free_port()
    log = tmp / f"{name}-gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(args.workers),
        # --threads 1: sync workers; more: gthread, as deploy/gunicorn.conf.py runs.
        "--worker-class",
        "gthread" if args.threads > 1 else "sync",
        "--threads",
        str(args.threads),
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
        yield port
    finally:
        stop(proc)
        if args.show_logs:
            print(f"--- {name}: gunicorn log tail ---\n{tail(log)}")


# --- Reporting ---------------------------------------------------------------------------


def machine_line(args: argparse.Namespace) -> str:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: nproc={nproc}, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, load average {load}\n"
        f"python {platform.python_version()}, Django {importlib.metadata.version('django')}, "
        f"gunicorn {importlib.metadata.version('gunicorn')}: "
        f"{args.workers} workers x {args.threads} threads, "
        f"access log {'on' if args.access_log else 'off'}\n"
        f"load: open-loop {args.rate:g} req/s for {args.duration:g} s per path "
        f"(after {args.warmup:g} s warm-up), new connection per request, timeout "
        f"{args.timeout:g} s; latency = scheduled send time -> end of response"
    )


def table(summaries: list[Summary]) -> str:
    header = (
        f"{'path':<24}{'sent':>7}{'rate/s':>8}{'errors':>8}"
        f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'lag p99/max ms':>17}"
    )
    rows = [header, "-" * len(header)]
    for s in summaries:
        rows.append(
            f"{s.label:<24}{s.sent:>7}{s.achieved_rate:>8.1f}{s.errors:>8}"
            f"{s.p50_ms:>9.1f}{s.p90_ms:>9.1f}{s.p99_ms:>9.1f}{s.max_ms:>9.1f}"
            f"{f'{s.send_lag_p99_ms:.1f}/{s.send_lag_max_ms:.1f}':>17}"
        )
        if s.error_kinds:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(s.error_kinds.items()))
            rows.append(f"{'':<24}errors: {kinds}")
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per path")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads a worker (over 1: gthread workers)"
    )
    parser.add_argument(
        "--path",
        dest="paths",
        action="append",
        default=argparse.SUPPRESS,
        help="path to measure, repeatable (default: / and /start/)",
    )
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
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or args.workers < 1:
        parser.error("--rate, --duration and --workers must be positive, --warmup >= 0")
    args.paths = getattr(args, "paths", None) or ["/", "/start/"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(machine_line(args), flush=True)
    summaries: list[Summary] = []
    tmp = Path(tempfile.mkdtemp(prefix="medchina-bench-"))
    try:
        env = production_env(tmp)
        if args.calibrate:
            (tmp / "bench_trivial_app.py").write_text(TRIVIAL_APP)
            with gunicorn("bench_trivial_app:application", env, args, tmp, "trivial", "/") as port:
                summaries.append(measure("(calibration) trivial", port, "/", args))
        prepare(env)
        with gunicorn("medchina.wsgi:application", env, args, tmp, "medchina", "/") as port:
            for path in args.paths:
                summaries.append(measure(path, port, path, args))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
