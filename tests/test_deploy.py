"""The deploy files do what the README says (issue 10, item 8), checked without Docker."""

from __future__ import annotations

import ast
import re
import runpy
import shlex
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "mail-worker", "beat")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _settings_variables() -> set[str]:
    """Every environment variable medchina/settings.py reads, found in its syntax tree."""
    tree = ast.parse((ROOT / "medchina" / "settings.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        reads_env = (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        ) or (isinstance(func, ast.Name) and func.id in {"env_required", "env_path", "env"})
        first = node.args[0]
        if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def _gunicorn_variables() -> set[str]:
    text = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    return set(re.findall(r'os\.environ\.get\("([A-Z0-9_]+)"', text))


def _example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_variable_settings_reads():
    read = _settings_variables()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "MEDCHINA_TRUSTED_PROXIES"} <= read
    missing = (read | _gunicorn_variables()) - _example_variables()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_names_only_variables_something_reads():
    # Read by docker-compose.yml itself.
    compose_only = {
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "MINIO_KMS_SECRET_KEY",
    }
    unread = _example_variables() - _settings_variables() - _gunicorn_variables() - compose_only
    assert not unread, f".env.example names variables nothing reads: {sorted(unread)}"


def test_compose_gives_every_app_service_the_env_file():
    services = _compose()["services"]
    for name in APP_SERVICES:
        assert services[name]["env_file"] in (".env", [".env"]), name
    # The rate-limit, 2FA and lockout settings therefore reach the containers.
    assert "MEDCHINA_RATELIMIT_SIGN_IN" in _example_variables()


def test_compose_puts_nginx_in_front_of_gunicorn():
    services = _compose()["services"]
    assert "ports" not in services["web"], "only nginx is published"
    nginx = services["nginx"]
    assert any(
        volume.startswith("./deploy/nginx/medchina.conf.template:") for volume in nginx["volumes"]
    )
    assert services["web"]["command"][-2:] == ["--config", "deploy/gunicorn.conf.py"]
    # The address the app trusts for X-Forwarded-For is nginx's own, fixed one.
    nginx_address = nginx["networks"]["medchina"]["ipv4_address"]
    assert services["web"]["environment"]["MEDCHINA_TRUSTED_PROXIES"] == nginx_address
    # nginx's body limit is the app's.
    from django.conf import settings

    nginx_limit = nginx["environment"]["NGINX_MAX_BODY"]
    assert int(nginx_limit.removesuffix("m")) * 1024 * 1024 == (
        settings.MEDCHINA_MAX_UPLOAD_REQUEST_SIZE
    )


def test_gunicorn_timeout_and_access_log_suit_buffered_uploads():
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert config["worker_class"] == "sync"  # behind nginx, which buffers both ways
    assert config["timeout"] > 30, "the default 30 s killed slow uploads"
    log_format = config["access_log_format"]
    # %(r)s is the request line with its query string, %(q)s the query, %(f)s the Referer.
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "%({referer}i)s"):
        assert leaky not in log_format
    assert "%(U)s" in log_format


def _dockerfile_packages() -> set[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"apt-get install[^&]*", text)
    words = match.group(0).split()[2:]
    return {word for word in words if not word.startswith("-")}


def _lock_distributions(lock: str) -> set[str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {
        re.sub(r"[-_.]+", "-", m.group(1)).lower()
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", text, flags=re.MULTILINE)
    }


def _commands_run_in_the_image() -> set[str]:
    """The programs the app services' commands and health checks start."""
    services = _compose()["services"]
    programs: set[str] = set()
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \["([^"]+)"', dockerfile, flags=re.MULTILINE)
    programs.add(cmd.group(1))
    for name in APP_SERVICES:
        service = services[name]
        programs.add(service["command"][0])
        test = service.get("healthcheck", {}).get("test")
        if not test:
            continue
        if test[0] == "CMD":
            programs.add(test[1])
        elif test[0] == "CMD-SHELL":
            for part in re.split(r"\|\||&&|\||;", test[1]):
                words = shlex.split(part.strip())
                if words:
                    programs.add(words[0])
    return programs


def test_the_dockerfiles_commands_exist_in_the_images_package_set():
    """No Docker engine here: each program must come from Python, a locked distribution's
    console script, or a Debian package the Dockerfile installs (found with dpkg -S)."""
    packages = _dockerfile_packages()
    locked = _lock_distributions("base.lock")
    scripts = {
        ep.name: re.sub(r"[-_.]+", "-", ep.dist.name).lower()
        for ep in metadata.entry_points(group="console_scripts")
    }
    problems = []
    for program in sorted(_commands_run_in_the_image()):
        if program in {"python", "python3", "pip"}:
            continue  # the python:3.12-slim base image
        if program in scripts:
            if scripts[program] not in locked:
                problems.append(f"{program}: from {scripts[program]}, not in base.lock")
            continue
        path = shutil.which(program)
        owner = ""
        if path:
            found = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            owner = found.stdout.split(":", 1)[0] if found.returncode == 0 else ""
        if owner not in packages:
            problems.append(f"{program}: Debian package {owner or '?'} is not installed")
    assert not problems, problems


def test_beat_health_check_needs_no_pgrep():
    beat = _compose()["services"]["beat"]["healthcheck"]["test"]
    assert "pgrep" not in " ".join(beat)
    assert beat[1:] == ["python", "manage.py", "health", "--process", "beat"]


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_compose_config_parses_with_the_example_env():
    subprocess.run([str(ROOT / "bin" / "check-compose")], check=True)


def test_the_image_installs_qpdf_which_joins_case_files():
    # pikepdf bundles the qpdf library, not the command the case-file build runs.
    assert "qpdf" in _dockerfile_packages()
