"""The CLI as users run it: `python -m stackscripts ARGS` in a fresh process. The one CLI runner of the tests.

    done = run_cli("templates", "show", path)                  # CompletedProcess, never raises on exit codes
    doc = cli_json("boot", "web1", "-t", t, "--db", db, code=1)  # the checked --json envelope
    child = spawn_cli("boot", ...)                              # a Popen to signal or wait on

The child's environment is this process's without STACKSCRIPTS_* variables (a developer's own clouds, keys
and store stay out), with the repository on PYTHONPATH, 200 columns, no colour; `env` adds to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENVELOPE_KEYS = {"api_version", "command", "ok", "data", "error"}


def cli_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    out = {k: v for k, v in os.environ.items() if not k.startswith("STACKSCRIPTS_")}
    out.update(PYTHONPATH=path, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    out.update(env or {})
    return out


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "stackscripts", *args]


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path | str = ROOT,
            timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run the CLI to the end and capture its output."""
    return subprocess.run(cli_command(*args), cwd=cwd, env=cli_env(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def spawn_cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path | str = ROOT) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command(*args), cwd=cwd, env=cli_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert 'File "' not in text, text


def envelope(done: subprocess.CompletedProcess[str], code: int = 0, *, quiet_stderr: bool = True) -> Any:
    """Check a --json run: its exit code, and stdout is exactly one envelope (json.loads refuses anything
    before or after the document); stderr empty unless quiet_stderr=False. Returns the document."""
    assert done.returncode == code, f"exit {done.returncode}, expected {code}\n{done.stdout}\n{done.stderr}"
    try:
        doc = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not exactly one JSON document ({exc}):\n{done.stdout}") from None
    assert isinstance(doc, dict) and set(doc) == ENVELOPE_KEYS, doc
    assert doc["api_version"] == "stackscripts/v1"
    assert doc["ok"] is (code == 0) and (doc["error"] is None) is (code == 0), doc
    if code:
        assert doc["error"]["exit_code"] == code, doc["error"]
    if quiet_stderr:
        assert done.stderr == "", done.stderr
    no_traceback(done.stdout + done.stderr)
    return doc


def cli_json(*args: str, code: int = 0, env: Mapping[str, str] | None = None, cwd: Path | str = ROOT,
             timeout: float = 120.0, quiet_stderr: bool = True) -> Any:
    """Run with --json and return the checked envelope (see envelope())."""
    return envelope(run_cli(*args, "--json", env=env, cwd=cwd, timeout=timeout), code, quiet_stderr=quiet_stderr)
