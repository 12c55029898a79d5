"""Helpers the benchmark scripts share: a free loopback port, log tails, stopping gunicorn."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
BASE_DIR = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = BASE_DIR / "deploy" / "nginx" / "medchina.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the master (graceful), then SIGKILL its process group if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def manage(env: dict[str, str], *command: str, timeout: float = 600) -> str:
    """``manage.py COMMAND`` in the benchmark's environment; its output, or exit saying why."""
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {command[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def gunicorn_sync(port: int, workers: int, timeout: int, log: Path) -> list[str]:
    """gunicorn with sync workers on loopback, errors to ``log``: the shape production runs."""
    return [
        sys.executable, "-m", "gunicorn", "medchina.wsgi:application",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--worker-class", "sync",
        "--timeout", str(timeout),
        "--chdir", str(BASE_DIR),
        "--error-logfile", str(log),
        "--log-level", "warning",
    ]  # fmt: skip


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 15) -> None:
    """Until something listens on ``port``; RuntimeError if ``process`` stops or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)  # polling for the port, not synchronising on time
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def nginx_in_front_of(upstream: str, folder: Path, max_body: int) -> Iterator[int]:
    """Debian's nginx on a free loopback port running our shipped site config
    (deploy/nginx/medchina.conf.template) in front of ``upstream``; yields its port.

    The access log goes to ``folder / "access.log"``. FileNotFoundError if nginx is missing.
    """
    if not Path(NGINX).exists():
        raise FileNotFoundError("nginx is missing: run bin/system-deps (Debian's nginx-light)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = NGINX_TEMPLATE.read_text()
    for name, value in {
        "MEDCHINA_UPSTREAM": upstream,
        "NGINX_LISTEN": f"{HOST}:{port}",
        "NGINX_MAX_BODY": str(max_body),
    }.items():
        site = site.replace("${" + name + "}", value)
    site = site.replace(
        "access_log /dev/stdout medchina;", f"access_log {folder}/access.log medchina;"
    )
    (folder / "site.conf").write_text(site)
    temp_paths = "\n".join(
        f"  {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\ndaemon off;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n{temp_paths}\n  include {folder}/site.conf;\n}}\n"
    )
    error_log = folder / "error.log"
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(error_log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process, error_log)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
