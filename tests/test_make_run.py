"""`make run PORT=8001`, and the sign-in block `make run` prints: framed, after the install and
migrate output, with each password shown once."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

PROJECT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def make(*args: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run make in the project on a database of its own; the virtualenv is taken as installed
    (``-o``), so a test never reinstalls it."""
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "PORT")}
    env.pop("PORTAL_BASE_URL", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env |= variables
    return subprocess.run(  # noqa: S603 (our own Makefile)
        [MAKE, "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def fake_python(tmp_path: Path) -> Path:
    """A stand-in for the virtualenv's python that says how it was called, and exits.

    The Makefile stops the worker (started in the background) when the server exits; the
    worker's stand-in ignores SIGTERM and says it started, and the server's stand-in waits for
    that before it exits, so the worker always has its say however loaded the machine is."""
    started = tmp_path / "worker-started"
    script = tmp_path / "python"
    script.write_text(
        "#!/bin/sh\ntrap '' TERM\n"
        'echo "python $* [DEBUG=$DEBUG PORTAL_BASE_URL=$PORTAL_BASE_URL]"\n'
        f'case "$*" in *db_worker*) touch "{started}";; esac\n'
        f'case "$*" in *runserver*) for i in $(seq 300); do [ -e "{started}" ] && break; '
        "sleep 0.1; done;; esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@needs_make
@pytest.mark.parametrize(("port", "expected"), [(None, "8000"), ("8001", "8001")])
def test_make_run_serves_on_the_port_given_and_its_addresses_follow(tmp_path, port, expected):
    variables = {"PY": str(fake_python(tmp_path))} | ({"PORT": port} if port else {})

    result = make("run", *(f"{key}={value}" for key, value in variables.items()), tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    calls = re.findall(r"^python (.*)$", result.stdout, re.M)
    settings = f"[DEBUG=1 PORTAL_BASE_URL=http://127.0.0.1:{expected}]"
    assert sorted(calls) == sorted(
        [
            f"manage.py migrate --noinput {settings}",
            f"manage.py load_demo {settings}",
            f"manage.py db_worker {settings}",  # in the background, beside the server
            f"manage.py runserver 127.0.0.1:{expected} {settings}",
        ]
    )
    assert calls.index(f"manage.py load_demo {settings}") == 1  # after migrate, before serving


def framed_block(output: str) -> list[str]:
    """The lines of the framed block at the end of the output (frame included)."""
    lines = output.rstrip("\n").splitlines()
    assert re.fullmatch(r"\+-+\+", lines[-1]), output[-2000:]
    top = max(i for i, line in enumerate(lines[:-1]) if re.fullmatch(r"\+-+\+", line))
    block = lines[top:]
    assert len({len(line) for line in block}) == 1, "the frame's lines differ in width"
    assert all(line.startswith("|  ") and line.endswith("  |") for line in block[1:-1])
    return block


@needs_make
def test_make_demo_ends_with_the_sign_in_block_and_shows_each_password_once(tmp_path):
    first = make("demo", "PORT=8001", tmp_path=tmp_path)

    assert first.returncode == 0, first.stderr
    block = framed_block(first.stdout)
    text = "\n".join(block)
    # Everything else (migrations, demo agents) came before it.
    assert first.stdout.index("Applying agents.0001_initial") < first.stdout.index(block[0])
    assert "created: demo/researcher.md" not in text
    assert "Sign in at http://127.0.0.1:8001/accounts/login/ with:" in text
    assert "http://127.0.0.1:8001/admin/" in text
    passwords = re.findall(r"'(\w+)'.* with password: (\S+)", text)
    assert [user for user, _ in passwords] == ["admin", "author", "reviewer"]
    for _, password in passwords:
        assert first.stdout.count(password) == 1

    second = make("demo", "PORT=8001", tmp_path=tmp_path)

    assert second.returncode == 0, second.stderr
    again = "\n".join(framed_block(second.stdout))
    assert "with password" not in second.stdout
    assert "the accounts exist already" in again
    for _, password in passwords:
        assert password not in second.stdout


@pytest.mark.django_db
def test_load_demo_prints_its_addresses_from_the_portal_base_url(settings, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8042"
    out = StringIO()

    call_command("load_demo", stdout=out)

    block = "\n".join(framed_block(out.getvalue()))
    assert "Agent Portal: http://127.0.0.1:8042/" in block
    assert "Sign in at http://127.0.0.1:8042/accounts/login/ with:" in block
    assert ":8000" not in out.getvalue()
