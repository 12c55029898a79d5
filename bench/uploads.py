"""Record-upload benchmark: web-worker memory, upload throughput, and thumbnail time.

What it measures
    1. Memory. The app runs under gunicorn (1 sync worker, ``--timeout 600``, 127.0.0.1)
       with a throw-away SQLite database and private storage in a temporary directory.
       A patient user, a case and a membership are created there and signed in through a
       database session (``sessionid`` cookie; CSRF by a matching ``csrftoken`` cookie and
       ``X-CSRFToken`` header). After a small warm-up upload (so first-request imports are
       not counted), one large file (default 1024 MiB) is streamed to
       ``POST /my/cases/<ref>/records/`` as multipart with a known Content-Length, in
       1 MiB pieces of one random block (the first 32 bytes are unique per upload, so no
       upload is a duplicate of another). The worker's VmRSS is read from ``/proc`` every
       50 ms while it uploads, and its VmHWM (peak RSS) is reset before and read after, so
       a spike between samples is caught too. Reported: baseline, peak, growth (target:
       growth <= 64 MiB). The JSON answer must say ``results[0].ok``; the random content
       would later fail the record checks, which are not run (in-memory Celery broker).
    2. Throughput on loopback: request-body bytes / time from the first byte sent to the
       whole answer read, for that upload and as the median of several smaller ones
       (default 3 x 256 MiB). 1 MB = 10^6 bytes. Target >= 50 MB/s. Client and server share
       the machine, and the files land in the page cache (no fsync), as on a real server.
    3. Thumbnails: a photo-like 4032 x 3024 (12-megapixel) JPEG at quality 90 (smooth
       gradients, texture and grain made with numpy) is checked the way a worker does:
       ``cases.records.checks.images._save_thumbnail`` on the decoded, cleaned image (the
       thumbnail step of ``record_check``; target p95 <= 100 ms), the same from the file
       (open + decode + thumbnail), and the whole ``record_check`` (sniff, decode, clean
       JPEG derivative, thumbnail). p50/p95/max over ``--runs`` runs (default 30) each,
       after two uncounted runs.

    4. Slow and broken connections: the resumable (chunked) upload endpoint under gunicorn
       with 2 sync workers and gunicorn's default 30 s worker timeout. A client paced to
       1.5 MB/s sends a 60 MiB file the way static/js/records.js does (chunks from 1 MiB,
       doubling while a chunk takes under 2 s, at most 8 MiB) and resets its own
       connection half way through the file, in the middle of a chunk; it waits a second,
       asks how much arrived and carries on. Meanwhile open-loop ``GET /`` at 50 req/s
       (web_latency.py's generator); its p99 is compared with 15 s of the same load just
       before. Then a 1 GiB "imaging export" goes up the same way, unthrottled.

How to run (from the project root)
    .venv/bin/python bench/uploads.py
    .venv/bin/python bench/uploads.py --size-mib 256 --repeats 0 --runs 50
    .venv/bin/python bench/uploads.py --only-slow --export-mib 0

Only loopback is used; the run is bounded in time (``--time-limit``, default 480 s) and
always stops gunicorn and removes its temporary directory, uploads included.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import importlib.metadata
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import string
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

# bench/ goes to the end of the path: bench/queue.py must not hide the standard library's
# ``queue`` (psycopg and concurrent.futures import it).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.append(sys.path.pop(0))

from common import HOST, free_port, gunicorn_sync, manage, nginx_in_front_of, stop, tail

BASE_DIR = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
GIB = 1024 * MIB
MB = 1_000_000
BLOCK = MIB  # bytes per send() and size of the repeated random block
SAMPLE_INTERVAL = 0.05  # seconds between RSS samples

MEMORY_TARGET_MIB = 64.0
THROUGHPUT_TARGET_MBPS = 50.0
THUMBNAIL_TARGET_MS = 100.0

SEED_SNIPPET = """\
import json
from datetime import date
from importlib import import_module

from django.conf import settings

from cases.models import Case, Goal, MedicalArea, Membership
from cases.people import user_get_or_create_for_email

email = "bench-patient@example.org"
case = Case.objects.create(
    contact_name="Bench Patient",
    contact_email=email,
    contact_phone="+447700900123",
    patient_name="Bench Patient",
    patient_date_of_birth=date(1970, 5, 17),
    current_provider="Bench Hospital",
    medical_area=MedicalArea.CANCER,
    diagnosis="Benchmark case",
    questions=["Benchmark question"],
    goal=Goal.INFORMATION,
)
user = user_get_or_create_for_email(email=email, name="Bench Patient")
Membership.objects.create(
    case=case, user=user, role=Membership.Role.PATIENT, can_view_all_records=True
)
store = import_module(settings.SESSION_ENGINE).SessionStore()
store["_auth_user_id"] = str(user.pk)
store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
store["_auth_user_hash"] = user.get_session_auth_hash()
store.save()
print(json.dumps({"ref": case.reference, "session": store.session_key}))
"""


class TimeLimitReached(Exception):
    """Raised by SIGALRM when the whole run passes --time-limit."""


# --- Small helpers -----------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``nan`` when empty)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def proc_status_kib(pid: int, *keys: str) -> dict[str, int]:
    """Fields of /proc/<pid>/status given in kB (e.g. VmRSS, VmHWM), as KiB."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in keys:
                found[name] = int(rest.split()[0])
    return found


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``echo 5 > clear_refs``); False when not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def children_of(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == parent:
            pids.append(int(entry))
    return pids


# --- The server --------------------------------------------------------------------------


def server_env(tmp: Path, max_record: int, quota: int) -> dict[str, str]:
    private = tmp / "private"
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "medchina.settings",
            "DJANGO_ENV": "development",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "CELERY_BROKER_URL": "memory://",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDCHINA_VAR_DIR": str(tmp),
            "MEDCHINA_PRIVATE_STORAGE_ROOT": str(private),
            "MEDCHINA_UPLOAD_TEMP_DIR": str(private / ".incoming"),
            "MEDCHINA_MAX_RECORD_SIZE": str(max_record),
            "MEDCHINA_CASE_QUOTA": str(quota),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


@dataclass(frozen=True)
class Patient:
    ref: str
    session: str
    csrf: str

    def headers(self, *, csrf_header: bool = True) -> dict[str, str]:
        headers = {
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "Accept": "application/json",
        }
        if csrf_header:
            headers["X-CSRFToken"] = self.csrf
        return headers


def prepare(env: dict[str, str]) -> Patient:
    """Migrate the throw-away database and sign a patient in to a new case."""
    Path(env["MEDCHINA_UPLOAD_TEMP_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput")
    out = manage(env, "shell", "-c", SEED_SNIPPET)
    seeded = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    alphabet = string.ascii_letters + string.digits
    csrf = "".join(secrets.choice(alphabet) for _ in range(32))  # Django's secret length
    return Patient(ref=seeded["ref"], session=seeded["session"], csrf=csrf)


def wait_until_ready(proc: subprocess.Popen[bytes], port: int, log: Path, workers: int = 1) -> int:
    """Wait for an HTTP answer and for every worker; return the first worker's pid."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}:\n{tail(log)}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
        except OSError:
            time.sleep(0.2)
            continue
        found = children_of(proc.pid)
        if len(found) == workers:
            return found[0]
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer on {HOST}:{port} within 60 s:\n{tail(log)}")


@contextmanager
def gunicorn(
    env: dict[str, str], tmp: Path, *, workers: int = 1, timeout: int = 600
) -> Iterator[tuple[int, int, Path]]:
    """Run the app; yield (port, first worker's pid, error log)."""
    port = free_port()
    log = tmp / f"gunicorn-{workers}w-{timeout}s.log"
    command = gunicorn_sync(port, workers, timeout, log)
    with open(tmp / "gunicorn-stdout.log", "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield port, wait_until_ready(proc, port, log, workers), log
    finally:
        stop(proc)


# --- Uploading ---------------------------------------------------------------------------


class RssSampler(threading.Thread):
    """Reads a process's VmRSS every SAMPLE_INTERVAL seconds until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples_kib: list[int] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            try:
                self.samples_kib.append(proc_status_kib(self.pid, "VmRSS")["VmRSS"])
            except (OSError, KeyError):
                return
            if self._stop_event.wait(SAMPLE_INTERVAL):
                return

    def finish(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


@dataclass
class Upload:
    file_bytes: int
    body_bytes: int
    seconds: float  # first byte sent -> whole answer read
    after_last_byte: float  # last byte sent -> whole answer read
    status: int
    answer: dict[str, Any] = field(default_factory=dict)
    send_error: str = ""

    @property
    def ok(self) -> bool:
        results = self.answer.get("results") or [{}]
        return self.status == 200 and results[0].get("ok") is True

    @property
    def mb_per_s(self) -> float:
        return self.body_bytes / MB / self.seconds

    def describe(self) -> str:
        results = self.answer.get("results") or [{}]
        text = (
            f"HTTP {self.status}, results[0].ok={json.dumps(results[0].get('ok'))}, "
            f"message {results[0].get('message', self.answer.get('errors', ''))!r}"
        )
        return text + (f" (send failed: {self.send_error})" if self.send_error else "")


def upload(
    port: int,
    patient: Patient,
    size: int,
    block: bytes,
    name: str,
    timeout: float,
    *,
    csrf_header: bool = True,
) -> Upload:
    """Stream one multipart upload of ``size`` bytes; never holds more than ``block``."""
    assert size >= 32
    boundary = f"medchina-bench-{secrets.token_hex(12)}"
    fields = {"category": "lab", "document_date": "2025-03-03", "description": "Benchmark"}
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    head_bytes, tail_bytes = head.encode(), f"\r\n--{boundary}--\r\n".encode()
    body_bytes = len(head_bytes) + size + len(tail_bytes)

    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    conn.putrequest("POST", f"/my/cases/{patient.ref}/records/", skip_accept_encoding=True)
    for key, value in {
        **patient.headers(csrf_header=csrf_header),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(body_bytes),
    }.items():
        conn.putheader(key, value)
    view = memoryview(block)
    send_error = ""
    start = time.perf_counter()
    try:
        conn.endheaders(head_bytes + secrets.token_bytes(32))  # unique content, unique hash
        remaining = size - 32
        while remaining > 0:
            piece = min(remaining, len(view))
            conn.send(view[:piece])
            remaining -= piece
        conn.send(tail_bytes)
    except OSError as error:  # the server answered (and closed) before the end
        send_error = f"{type(error).__name__}: {error}"
    sent = time.perf_counter()
    response = conn.getresponse()
    raw = response.read()
    done = time.perf_counter()
    conn.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = {"errors": raw[:200].decode(errors="replace")}
    return Upload(size, body_bytes, done - start, done - sent, response.status, answer, send_error)


@dataclass
class MemoryResult:
    baseline_kib: int
    peak_sampled_kib: int
    peak_hwm_kib: int | None
    samples: int
    after_kib: int
    upload: Upload

    @property
    def peak_kib(self) -> int:
        return max(self.peak_sampled_kib, self.peak_hwm_kib or 0)

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024


def measure_big_upload(
    port: int, worker: int, patient: Patient, size: int, block: bytes, timeout: float
) -> MemoryResult:
    time.sleep(0.3)  # let the worker settle after the warm-up
    baseline = proc_status_kib(worker, "VmRSS")["VmRSS"]
    hwm_reset = reset_peak_rss(worker)
    sampler = RssSampler(worker)
    sampler.start()
    try:
        result = upload(port, patient, size, block, f"bench-{size // MIB}mib.bin", timeout)
    finally:
        sampler.finish()
    after = proc_status_kib(worker, "VmRSS", "VmHWM")
    return MemoryResult(
        baseline_kib=baseline,
        peak_sampled_kib=max(sampler.samples_kib or [baseline]),
        peak_hwm_kib=after["VmHWM"] if hwm_reset else None,
        samples=len(sampler.samples_kib),
        after_kib=after["VmRSS"],
        upload=result,
    )


def stored_files(private: Path) -> tuple[list[int], int]:
    """Sizes of stored files under private storage, and files left in the temp folder."""
    incoming = private / ".incoming"
    sizes = [
        path.stat().st_size
        for path in private.rglob("*")
        if path.is_file() and incoming not in path.parents
    ]
    leftovers = sum(1 for path in incoming.rglob("*") if path.is_file())
    return sizes, leftovers


# --- Resumable uploads: a slow, broken connection --------------------------------------


class Dropped(Exception):
    """The client cut its own connection mid-chunk, as a train going into a tunnel does."""


@dataclass
class ResumableRun:
    size: int
    seconds: float = 0.0
    chunks: int = 0
    chunk_seconds: list[float] = field(default_factory=list)
    drops: int = 0
    resumed_from: list[int] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        results = self.answer.get("results") or [{}]
        return not self.error and results[0].get("ok") is True


def _json_request(
    port: int, patient: Patient, method: str, path: str, body: bytes = b"", headers=None
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request(method, path, body=body, headers={**patient.headers(), **(headers or {})})
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    try:
        return response.status, json.loads(raw) if raw else {}
    except ValueError:
        return response.status, {"errors": raw[:200].decode(errors="replace")}


def _send_chunk(
    port: int,
    patient: Patient,
    url: str,
    data: memoryview,
    offset: int,
    *,
    rate: float | None,
    clock: list[float],
    drop_after: int | None,
) -> tuple[int, dict[str, Any]]:
    """PATCH one chunk, paced to ``rate`` bytes/s overall; cut it after ``drop_after``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.putrequest("PATCH", url, skip_accept_encoding=True)
    for key, value in {
        **patient.headers(),
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(data)),
        "Upload-Offset": str(offset),
    }.items():
        conn.putheader(key, value)
    conn.endheaders()
    piece = 64 * 1024
    sent = 0
    while sent < len(data):
        if drop_after is not None and sent >= drop_after:
            # Reset, not a polite close: the server sees the body end early.
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sock.close()
            raise Dropped
        part = data[sent : sent + piece]
        if rate:
            # clock = [start time, bytes sent since]: one pace across all chunks.
            due = clock[0] + clock[1] / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        conn.send(part)
        sent += len(part)
        clock[1] += len(part)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, {"errors": raw[:200].decode(errors="replace")}


def resumable_upload(
    port: int,
    patient: Patient,
    content: bytes,
    name: str,
    *,
    rate: float | None,
    drop_at: int | None,
) -> ResumableRun:
    """Send ``content`` the way static/js/records.js does: start, then chunks that grow
    while they take under 2 s and shrink past 6 s; after a drop, ask the offset, go on."""
    run = ResumableRun(size=len(content))
    status, started = _json_request(
        port,
        patient,
        "POST",
        f"/my/cases/{patient.ref}/records/uploads/",
        body=f"name={name}&size={len(content)}&category=imaging_study".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 201:
        run.error = f"start: HTTP {status} {started}"
        return run
    url, chunk_max = started["url"], started["chunk_max"]
    view = memoryview(content)
    offset, chunk = 0, MIB
    clock = [time.perf_counter(), 0]
    begin = clock[0]
    while offset < len(content):
        end = min(offset + chunk, len(content))
        cut = drop_at - offset if drop_at is not None and offset <= drop_at < end else None
        chunk_began = time.perf_counter()
        try:
            status, body = _send_chunk(
                port,
                patient,
                url,
                view[offset:end],
                offset,
                rate=rate,
                clock=clock,
                drop_after=cut,
            )
        except Dropped:
            run.drops += 1
            drop_at = None
            time.sleep(1.0)  # the client notices, waits, asks how much arrived
            status, body = _json_request(port, patient, "GET", url)
            if status != 200:
                run.error = f"offset after drop: HTTP {status} {body}"
                return run
            offset = body["offset"]
            run.resumed_from.append(offset)
            continue
        run.chunks += 1
        took = time.perf_counter() - chunk_began
        run.chunk_seconds.append(took)
        if status != 200:
            run.error = f"chunk at {offset}: HTTP {status} {body}"
            return run
        offset = body["offset"]
        if took < 2:
            chunk = min(chunk * 2, chunk_max)
        elif took > 6:
            chunk = max(chunk // 2, 256 * 1024)
        if body.get("results"):
            run.answer = body
    run.seconds = time.perf_counter() - begin
    return run


# bench/ goes last on the path: bench/queue.py must not hide the standard library's queue.
PROBER = f"""
import dataclasses, json, sys
sys.path.append({str(Path(__file__).resolve().parent)!r})
from uploads import get_root_meanwhile
port, rate, duration = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(json.dumps(dataclasses.asdict(get_root_meanwhile(port, rate, duration))))
"""


def get_root_meanwhile(port: int, rate: float, duration: float):
    """Open-loop ``GET /`` (web_latency.py's generator) for ``duration`` seconds."""
    from web_latency import open_loop, summarise

    samples, span = asyncio.run(open_loop(port, "/", rate, duration, 5.0, 1000))
    return summarise("GET /", samples, span, rate)


def slow_upload_bench(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    """A 60 MiB file at 1.5 MB/s with its connection cut halfway, and GET / meanwhile:
    with gunicorn facing the clients, then behind our nginx config (the production shape)."""
    patient = prepare_more(env)
    size = args.slow_mib * MIB
    shapes = ["gunicorn alone"] + (["nginx → gunicorn"] if args.proxy else [])
    for shape in shapes:
        content = os.urandom(size)  # new bytes each time: a repeat is refused as a duplicate
        with gunicorn(env, tmp, workers=args.web_workers, timeout=30) as (port, _worker, log):
            if shape == "gunicorn alone":
                _slow_upload_run(args, shape, port, patient, content)
            else:
                folder = tmp / "nginx"
                limit = int(env.get("MEDCHINA_MAX_UPLOAD_REQUEST_SIZE", 10 * MIB * 1024))
                with nginx_in_front_of(f"{HOST}:{port}", folder, limit) as proxy_port:
                    _slow_upload_run(args, shape, proxy_port, patient, content)
            if args.show_logs:
                print(f"--- gunicorn log tail ---\n{tail(log)}")
    sizes, leftovers = stored_files(Path(env["MEDCHINA_PRIVATE_STORAGE_ROOT"]))
    print(f"   stored: {'yes' if size in sizes else 'NO'}; temp files left: {leftovers}")


def _slow_upload_run(
    args: argparse.Namespace, shape: str, port: int, patient: Patient, content: bytes
) -> None:
    size = len(content)
    rate = args.slow_rate * MB
    duration = size / rate + 5
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    idle = get_root_meanwhile(port, args.probe_rate, args.probe_seconds)
    # The prober runs in its own process so the paced sender never holds its GIL.
    prober = subprocess.Popen(
        [sys.executable, "-c", PROBER, str(port), str(args.probe_rate), str(duration)],
        stdout=subprocess.PIPE,
        text=True,
    )
    name = f"slow-{shape.split()[0]}.bin"
    slow = resumable_upload(port, patient, content, name, rate=rate, drop_at=size // 2)
    out, _ = prober.communicate(timeout=duration + 60)
    busy = SimpleNamespace(**json.loads(out.strip().splitlines()[-1]))
    big = None
    if args.export_mib:
        export = os.urandom(MIB) * args.export_mib  # one random MiB, repeated
        export = secrets.token_bytes(32) + export[32:]
        big = resumable_upload(
            port, patient, export, f"export-{shape.split()[0]}.bin", rate=None, drop_at=None
        )
        del export
    print(
        f"4. Resumable upload, {shape}: {args.slow_mib} MiB at {args.slow_rate:g} MB/s, "
        f"connection reset at half way (gunicorn {args.web_workers} sync workers, --timeout "
        f"30; load average at the start {load})"
    )
    said = slow.error or (slow.answer.get("results") or [{}])[0].get("message")
    print(f"   completed: {slow.ok} ({said})")
    print(
        f"   {slow.chunks} chunks (longest {max(slow.chunk_seconds or [0]):.1f} s), "
        f"{slow.drops} drop(s), resumed from byte {slow.resumed_from}, "
        f"whole upload {slow.seconds:.1f} s = {size / MB / max(slow.seconds, 1e-9):.2f} MB/s"
    )
    for label, summary in (("idle", idle), ("during the upload", busy)):
        print(
            f"   GET / at {args.probe_rate:g} req/s {label:<18}: p50 {summary.p50_ms:6.1f} ms  "
            f"p90 {summary.p90_ms:6.1f} ms  p99 {summary.p99_ms:6.1f} ms  max "
            f"{summary.max_ms:6.1f} ms  errors {summary.errors}/{summary.sent}"
        )
    ratio = busy.p99_ms / idle.p99_ms if idle.p99_ms else math.nan
    print(f"   GET / p99 during/idle, {shape}: {ratio:.2f}")
    if big is not None:
        print(
            f"   {args.export_mib} MiB imaging export, unthrottled: completed {big.ok}, "
            f"{big.chunks} chunks, {big.seconds:.1f} s "
            f"({args.export_mib * MIB / MB / max(big.seconds, 1e-9):.0f} MB/s)"
            + (f" — {big.error}" if big.error else "")
        )


SECOND_PATIENT = SEED_SNIPPET.replace("bench-patient@", "bench-slow@")


def prepare_more(env: dict[str, str]) -> Patient:
    """Another signed-in patient and case in the same database (its own quota)."""
    out = manage(env, "shell", "-c", SECOND_PATIENT)
    seeded = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    alphabet = string.ascii_letters + string.digits
    csrf = "".join(secrets.choice(alphabet) for _ in range(32))
    return Patient(ref=seeded["ref"], session=seeded["session"], csrf=csrf)


# --- Thumbnails --------------------------------------------------------------------------


def make_photo(path: Path, width: int = 4032, height: int = 3024) -> None:
    """A photo-like JPEG: smooth light and colour, mid-scale texture and sensor grain."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(20260601)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    texture = Image.fromarray(rng.integers(0, 256, (96, 128), dtype=np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    texture_values = (np.asarray(texture, dtype=np.float32) - 128.0) * 0.25
    channels = []
    for channel in range(3):
        fx, fy, phase = rng.uniform(1.0, 4.0), rng.uniform(1.0, 3.0), rng.uniform(0, 6.28)
        light = 150.0 - 70.0 * y + 25.0 * x * (channel - 1)
        waves = 35.0 * np.sin(2 * np.pi * fx * x + phase) * np.cos(2 * np.pi * fy * y)
        grain = rng.standard_normal((height, width), dtype=np.float32) * 5.0
        channels.append(np.clip(light + waves + texture_values + grain, 0, 255).astype(np.uint8))
    image = Image.fromarray(np.dstack(channels), "RGB")
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "Model 12MP"  # Model
    exif[0x0112] = 1  # Orientation: upright
    image.save(path, "JPEG", quality=90, exif=exif)


@dataclass(frozen=True)
class Timing:
    label: str
    runs_ms: list[float]

    @property
    def p95(self) -> float:
        return percentile(self.runs_ms, 95)

    def line(self) -> str:
        return (
            f"p50 {percentile(self.runs_ms, 50):6.1f} ms   p95 {self.p95:6.1f} ms   "
            f"max {max(self.runs_ms):6.1f} ms   ({len(self.runs_ms)} runs)"
        )


def time_runs(label: str, runs: int, action: Callable[[int], object]) -> Timing:
    for warm in range(2):
        action(-1 - warm)
    timings = []
    for index in range(runs):
        start = time.perf_counter()
        action(index)
        timings.append((time.perf_counter() - start) * 1000)
    return Timing(label, timings)


def thumbnail_bench(tmp: Path, runs: int) -> tuple[Path, list[Timing], str]:
    sys.path.insert(0, str(BASE_DIR))
    from PIL import Image

    from cases.records import checks as record_checks
    from cases.records.checks import images

    photo = tmp / "photo-12mp.jpg"
    make_photo(photo)
    work = tmp / "thumbs"
    work.mkdir()
    note = "cases.records.checks.images._save_thumbnail (the thumbnail step of record_check)"
    sniffed = record_checks.sniff_type(photo)

    def decoded() -> Image.Image:
        img = images._open_image(photo, sniffed)
        images._decode_upright(img)
        return img

    save_thumbnail: Callable[[Image.Image, Path], None] | None = getattr(
        images, "_save_thumbnail", None
    )
    if save_thumbnail is None:  # renamed: fall back to the approach it documented
        note = "standalone Pillow: resize BICUBIC reducing_gap=2.0 + JPEG q80 (no helper found)"

        def save_thumbnail(img: Image.Image, output: Path) -> None:
            scale = 400 / max(img.size)
            size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            small = img.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
            small.save(output, "JPEG", quality=80)

    with decoded() as source_img:
        clean = images._clean_pixels(source_img, lossless=False)
        clean.load()
        step = time_runs(
            "thumbnail step (decoded image -> 400 px JPEG)",
            runs,
            lambda i: save_thumbnail(clean, work / f"thumb-{i}.jpg"),
        )

    def from_file(index: int) -> None:
        with decoded() as img:
            save_thumbnail(images._clean_pixels(img, lossless=False), work / "f.jpg")

    whole_thumb = time_runs("open + decode + thumbnail", runs, from_file)

    def full_check(index: int) -> None:
        out = work / f"check-{index}"
        record_checks.record_check(photo, out)
        shutil.rmtree(out)

    full = time_runs("record_check() (sniff, decode, derivative, thumbnail)", runs, full_check)
    return photo, [step, whole_thumb, full], note


# --- Reporting and main ------------------------------------------------------------------


def machine_lines(tmp: Path) -> str:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("django", "gunicorn", "pillow", "numpy")
    )
    return (
        f"machine: nproc={nproc}, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, load average {load}\n"
        f"python {platform.python_version()}, {versions}\n"
        f"temp dir: {tmp} (database, private storage and upload temp dir, one filesystem)"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=textwrap.dedent(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="the big upload, MiB")
    parser.add_argument("--repeat-mib", type=int, default=256, help="each repeat upload, MiB")
    parser.add_argument("--repeats", type=int, default=3, help="repeat uploads (0: none)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per thumbnail figure")
    parser.add_argument("--timeout", type=float, default=120.0, help="socket timeout, s")
    parser.add_argument("--time-limit", type=int, default=480, help="whole run limit, s")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the temp dir goes")
    parser.add_argument("--show-logs", action="store_true", help="print gunicorn's log tail")
    parser.add_argument("--slow-mib", type=int, default=60, help="throttled upload, MiB")
    parser.add_argument("--slow-rate", type=float, default=1.5, help="throttle, MB/s")
    parser.add_argument(
        "--proxy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="part 4 again behind our nginx config (deploy/nginx), as in production",
    )
    parser.add_argument("--export-mib", type=int, default=1024, help="chunked export, MiB")
    parser.add_argument("--web-workers", type=int, default=2, help="workers for part 4")
    parser.add_argument("--probe-rate", type=float, default=50.0, help="GET / per second")
    parser.add_argument("--probe-seconds", type=float, default=15.0, help="idle GET / time")
    parser.add_argument(
        "--only-slow", action="store_true", help="run only part 4 (resumable uploads)"
    )
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.repeat_mib < 1 or args.repeats < 0 or args.runs < 1:
        parser.error("sizes and --runs must be at least 1, --repeats at least 0")
    return args


def run(args: argparse.Namespace, tmp: Path) -> None:
    size, repeat = args.size_mib * MIB, args.repeat_mib * MIB
    total = size + args.repeats * repeat + MIB
    free = shutil.disk_usage(tmp).free
    if free < total + GIB:
        sys.exit(f"not enough disk space in {tmp}: need {(total + GIB) / GIB:.1f} GiB")
    env = server_env(tmp, max_record=max(2 * GIB, 2 * size), quota=max(8 * GIB, 2 * total))
    print("medChina Intake upload benchmark")
    print(machine_lines(tmp))
    print(
        f"server: gunicorn, 1 sync worker, DJANGO_ENV=development, DEBUG off, SQLite, Celery "
        f"broker memory:// (record checks not run); MEDCHINA_MAX_RECORD_SIZE="
        f"{env['MEDCHINA_MAX_RECORD_SIZE']}, MEDCHINA_CASE_QUOTA={env['MEDCHINA_CASE_QUOTA']}"
    )
    patient = prepare(env)
    if args.only_slow:
        slow_upload_bench(args, tmp, env)
        return
    block = os.urandom(BLOCK)

    with gunicorn(env, tmp) as (port, worker, log):
        try:
            boot_rss = proc_status_kib(worker, "VmRSS")["VmRSS"]
            # The session and CSRF cookie set-up must be what lets uploads in.
            forged = upload(
                port, patient, MIB, block, "no-csrf.bin", args.timeout, csrf_header=False
            )
            if forged.status != 403:
                sys.exit(f"an upload without X-CSRFToken was not refused: {forged.describe()}")
            warm = upload(port, patient, MIB, block, "warm-up.bin", args.timeout)
            if not warm.ok:
                sys.exit(f"warm-up upload refused: {warm.describe()}\n{tail(log)}")
            memory = measure_big_upload(port, worker, patient, size, block, args.timeout)
            big = memory.upload
            repeats = [
                upload(port, patient, repeat, block, f"repeat-{n}.bin", args.timeout)
                for n in range(args.repeats)
            ]
            final_rss = proc_status_kib(worker, "VmRSS")["VmRSS"]
        finally:
            if args.show_logs:
                print(f"--- gunicorn log tail ---\n{tail(log)}")
    sizes, leftovers = stored_files(Path(env["MEDCHINA_PRIVATE_STORAGE_ROOT"]))

    print()
    print(
        f"1. Web worker memory while a {args.size_mib} MiB file uploads "
        f"(VmRSS every {SAMPLE_INTERVAL * 1000:.0f} ms, VmHWM reset before and read after)"
    )
    print(
        "   (signed in by a database session; the same upload without the X-CSRFToken "
        "header got HTTP 403)"
    )
    print(f"   worker RSS after boot        : {boot_rss / 1024:7.1f} MiB")
    print(f"   baseline (after 1 MiB warm-up): {memory.baseline_kib / 1024:7.1f} MiB")
    hwm = f"{memory.peak_hwm_kib / 1024:.1f} MiB" if memory.peak_hwm_kib else "unavailable"
    print(
        f"   peak during upload           : {memory.peak_kib / 1024:7.1f} MiB  (max of "
        f"{memory.samples} samples {memory.peak_sampled_kib / 1024:.1f} MiB, VmHWM {hwm})"
    )
    print(f"   RSS after the upload         : {memory.after_kib / 1024:7.1f} MiB")
    print(
        f"   growth                       : {memory.growth_mib:7.1f} MiB   target <= "
        f"{MEMORY_TARGET_MIB:g} MiB   {verdict(big.ok and memory.growth_mib <= MEMORY_TARGET_MIB)}"
    )
    print(f"   answer: {big.describe()}")
    matched = "yes" if big.file_bytes in sizes else "NO"
    print(
        f"   stored original of {big.file_bytes} bytes on disk: {matched}; "
        f"files left in the upload temp dir: {leftovers}"
    )
    print(f"   worker RSS after all uploads : {final_rss / 1024:7.1f} MiB")

    print()
    print(
        "2. Upload throughput on loopback (1 MB = 10^6 bytes; request-body bytes / time from "
        "first byte sent to answer read)"
    )
    print(
        f"   {args.size_mib} MiB upload: {big.body_bytes / MB:9.1f} MB in {big.seconds:6.2f} s "
        f"= {big.mb_per_s:7.1f} MB/s (answer {big.after_last_byte * 1000:.0f} ms after the "
        f"last byte)   target >= {THROUGHPUT_TARGET_MBPS:g} MB/s   "
        f"{verdict(big.ok and big.mb_per_s >= THROUGHPUT_TARGET_MBPS)}"
    )
    if repeats:
        rates = [r.mb_per_s for r in repeats]
        median = statistics.median(rates)
        all_ok = all(r.ok for r in repeats)
        print(
            f"   {args.repeats} x {args.repeat_mib} MiB: median {median:7.1f} MB/s "
            f"({', '.join(f'{rate:.1f}' for rate in rates)}; all ok: {all_ok})   "
            f"target >= {THROUGHPUT_TARGET_MBPS:g} MB/s   "
            f"{verdict(all_ok and median >= THROUGHPUT_TARGET_MBPS)}"
        )
        for number, failed in enumerate(repeats):
            if not failed.ok:
                print(f"   repeat {number} failed: {failed.describe()}")

    print()
    photo, timings, note = thumbnail_bench(tmp, args.runs)
    from PIL import Image

    with Image.open(photo) as img:
        shape = f"{img.width} x {img.height} {img.mode}"
    print(
        f"3. Thumbnail of a 12-megapixel JPEG ({shape}, quality 90, "
        f"{photo.stat().st_size / MB:.1f} MB; gunicorn stopped)"
    )
    print(f"   measured: {note}")
    for index, timing in enumerate(timings):
        target = (
            f"   target p95 <= {THUMBNAIL_TARGET_MS:g} ms   "
            f"{verdict(timing.p95 <= THUMBNAIL_TARGET_MS)}"
            if index == 0
            else "   (info)"
        )
        print(f"   {timing.label:<55} {timing.line()}{target}")

    print()
    slow_upload_bench(args, tmp, env)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)

    def out_of_time(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitReached(f"stopped: the run took longer than {args.time_limit} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.time_limit)
    tmp = Path(tempfile.mkdtemp(prefix="medchina-bench-uploads-", dir=args.tmp_dir))
    started = time.monotonic()
    try:
        run(args, tmp)
    except TimeLimitReached as stopped:
        sys.exit(str(stopped))
    finally:
        signal.alarm(0)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(run time {time.monotonic() - started:.0f} s; temporary files removed)")


if __name__ == "__main__":
    main()
