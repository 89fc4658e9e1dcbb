"""`stackscripts tokens create | list | revoke` as users run them, on both backends: the token is shown once (in the
human output alone on stdout, in --json once), never by `tokens list`, and never kept in clear (the SQLite file's
bytes, a pg_dump); --output writes it to a 0600 file instead; bad input is exit 2 with one paragraph.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from stackscripts.api.tokens import TOKEN
from tests.store.conftest import Backend
from tests.store.test_tokens import dump, forms, team  # noqa: F401 (a fixture)
from tests.support.cli import cli_json, no_traceback, run_cli

pytestmark = pytest.mark.timeout(300)


def env(backend: Backend) -> dict[str, str]:
    return {"STACKSCRIPTS_DB": backend.location}


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(backend: Backend, team: str) -> None:
    done = run_cli("tokens", "create", "--team", team, "--role", "operator", "--name", "ci", "--expires", "2w", "--json",
                   env=env(backend))
    doc = json.loads(done.stdout)
    made = doc["data"]
    secret = made["token"]
    assert TOKEN.fullmatch(secret) and secret.startswith(made["prefix"]) and done.stdout.count(secret) == 1
    assert (doc["command"], made["team"], made["role"], made["name"], made["state"]) == \
        ("tokens create", team, "operator", "ci", "active")
    assert made["expires"] - made["created"] == pytest.approx(14 * 86400)

    listed = run_cli("tokens", "list", "--json", env=env(backend))
    assert secret not in listed.stdout and secret[len(made["prefix"]):] not in listed.stdout
    [row] = json.loads(listed.stdout)["data"]["tokens"]
    assert row == {**{k: v for k, v in made.items() if k != "token"}, "last_used": None}
    text = run_cli("tokens", "list", env=env(backend))
    assert made["id"] in text.stdout and "active" in text.stdout and secret not in text.stdout

    stored = dump(backend)
    assert made["id"].encode() in stored
    for form in forms(secret) + forms(secret[len(made["prefix"]):]):
        assert form not in stored

    revoked = cli_json("tokens", "revoke", made["id"], env=env(backend))["data"]
    assert (revoked["changed"], revoked["state"]) == (True, "revoked") and "token" not in revoked
    assert cli_json("tokens", "revoke", made["id"], env=env(backend))["data"]["changed"] is False
    assert cli_json("tokens", "list", "--team", "other", env=env(backend))["data"] == {"tokens": []}
    unknown = cli_json("tokens", "revoke", "0123456789ab", code=2, env=env(backend))["error"]
    assert "unknown token '0123456789ab'" in unknown["message"] and "tokens list" in unknown["message"]


def test_the_human_output_puts_the_token_alone_on_stdout(backend: Backend, team: str) -> None:
    done = run_cli("tokens", "create", "--team", team, "--role", "viewer", env=env(backend))
    assert done.returncode == 0, done.stderr
    assert TOKEN.fullmatch(done.stdout.rstrip("\n")) and done.stdout.count("\n") == 1
    assert "shown this once" in done.stderr and done.stdout.strip() not in done.stderr


def test_output_writes_the_token_to_a_private_file(backend: Backend, team: str, tmp_path: Path) -> None:
    path = tmp_path / "token"
    made = cli_json("tokens", "create", "--team", team, "--role", "viewer", "--output", str(path), "--expires", "never",
                    env=env(backend))["data"]
    secret = path.read_text().strip()
    assert TOKEN.fullmatch(secret) and secret.startswith(made["prefix"]) and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "token" not in made and made["token_file"] == str(path) and made["expires"] is None
    text = run_cli("tokens", "create", "--team", team, "--role", "viewer", "-o", str(path), env=env(backend))
    assert text.returncode == 0 and str(path) in text.stdout and path.read_text().strip() not in text.stdout
    assert path.read_text().strip() != secret  # a new token, the file made again


def test_bad_input_is_exit_2_and_makes_nothing(backend: Backend, team: str, tmp_path: Path) -> None:
    cases = [(("--team", team, "--role", "admin"), "'admin' is not one of"),
             (("--team", "Web", "--role", "viewer"), "'Web' is not a team name"),
             (("--team", team, "--role", "viewer", "--expires", "soon"), "'soon' is not an age"),
             (("--team", team, "--role", "viewer", "-o", str(tmp_path / "no" / "such" / "dir")), "cannot write the token")]
    if backend.name == "postgresql":
        cases.append((("--team", "nosuchteam", "--role", "viewer"), "there is no team nosuchteam"))
    for args, expect in cases:
        doc = cli_json("tokens", "create", *args, code=2, env=env(backend))
        assert expect in doc["error"]["message"], doc
        text = run_cli("tokens", "create", *args, env=env(backend))
        assert text.returncode == 2 and expect in text.stderr and text.stdout == ""
        no_traceback(text.stderr)
    assert cli_json("tokens", "list", env=env(backend))["data"] == {"tokens": []}
