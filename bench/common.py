"""Helpers the benchmark scripts share: a free loopback port, log tails, stopping gunicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

HOST = "127.0.0.1"
BASE_DIR = Path(__file__).resolve().parent.parent


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
