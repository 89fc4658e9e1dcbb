"""Secrets and queued work: a `cred:` input travels as a reference and each worker resolves it from its own
credential backend (here the environment); the secret's value is nowhere in the database (a pg_dump of it, as
text, hex and base64) nor in `fleets show` or `runs show`; a secret given as text to a queued fleet is refused."""

from __future__ import annotations

import base64
import hashlib
import secrets
import subprocess
from pathlib import Path

import pytest

from stackscripts.inputs.creds import env_name
from tests.support.cli import no_traceback
from tests.support.waits import wait_until
from tests.workers.conftest import QueueWorld
from tests.workers.helpers import add_servers, units

pytestmark = pytest.mark.timeout(300)

# A Linode StackScript: a UDF whose name holds "password" is a secret whatever its value's kind.
STACKSCRIPT = """\
#!/bin/bash
# <UDF name="OUT_DIR" label="Where the test reads what the step did" />
# <UDF name="DB_PASSWORD" label="Database password" />
set -eu
d="$OUT_DIR/$STACKSCRIPTS_SERVER"
mkdir -p "$d"
printf '%s' "$DB_PASSWORD" | sha256sum | cut -d' ' -f1 > "$d/password.sha256"
echo "the password is $DB_PASSWORD"
echo "on stderr: $DB_PASSWORD" >&2
"""


def secret_template(world: QueueWorld, tmp_path: Path) -> str:
    folder = tmp_path / "templates" / "secret"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "db.sh").write_text(STACKSCRIPT)
    (folder / "template.yaml").write_text(f"Name: Secret template\nInputs:\n  OUT_DIR: text:{world.out}\n"
                                          "RightScripts:\n  Boot:\n  - scripts/db.sh\n")
    return str(folder / "template.yaml")


def dump(world: QueueWorld) -> str:
    pg = world.backend.pg
    assert pg is not None
    done = subprocess.run(["pg_dump", "--no-owner", "-h", pg.host, "-p", str(pg.port), "-U", pg.user,
                           world.backend.database], env={"PGPASSFILE": str(pg.passfile), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def forms(value: str) -> list[str]:
    """How a value can appear in a dump: as text, and as bytea (hex) or base64 of its bytes."""
    raw = value.encode()
    return [value, raw.hex(), base64.b64encode(raw).decode()]


def test_a_cred_input_reaches_the_step_and_never_the_store(world: QueueWorld, tmp_path: Path) -> None:
    secret = "pw-" + secrets.token_hex(16)
    add_servers(world, ["web1", "web2"])
    template = secret_template(world, tmp_path)
    creds = {env_name("db-password"): secret, "STACKSCRIPTS_CRED_BACKENDS": "env"}
    workers = [world.spawn("worker", env={**creds, "STACKSCRIPTS_CONTROLLER_HOST": f"worker-{i}"}) for i in (1, 2)]
    wait_until(lambda: len(world.json("workers", "list")["data"]["workers"]) == 2, 60, "two workers alive")

    done = world.json("fleet", "boot", "-t", template, "web1", "web2", "--queue", "--wait",
                      "-i", "DB_PASSWORD=cred:db-password")["data"]
    assert done["state"] == "succeeded", done
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert all((world.out / s / "password.sha256").read_text().strip() == digest for s in ("web1", "web2"))

    text = dump(world)
    assert "cred:db-password" in text  # the units and runs are in the dump: the reference, not the value
    assert b"the password is ".hex() in text  # so is the steps' output (bytea), masked
    for form in forms(secret):
        assert form not in text, f"the secret is in the database dump (as {form[:12]}...)"
    shown = world.run("fleets", "show", done["id"], "--json")
    runs = [world.run("runs", "show", units(done)[s]["run_id"], "--json") for s in ("web1", "web2")]
    logs = [world.run("runs", "log", units(done)[s]["run_id"], "1", "--raw") for s in ("web1", "web2")]
    for seen in (shown, *runs, *logs):
        assert seen.returncode == 0, seen.stderr
        assert secret not in seen.stdout + seen.stderr
    assert "the password is " in logs[0].stdout
    for worker in workers:
        assert secret not in world.stop(worker)

    # A secret given as text would travel in the queue: refused before anything is queued.
    clear = "pw-" + secrets.token_hex(16)
    refused = world.run("fleet", "boot", "-t", template, "web1", "--queue", "-i", f"DB_PASSWORD=text:{clear}")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    no_traceback(refused.stderr)
    assert "input DB_PASSWORD is a secret given as text: queued work never carries a secret" in refused.stderr
    assert "cred:NAME" in refused.stderr and clear not in refused.stdout + refused.stderr
    assert [f["id"] for f in world.json("fleets", "list")["data"]["fleets"]] == [done["id"]]
    assert not any(form in dump(world) for form in forms(clear))
