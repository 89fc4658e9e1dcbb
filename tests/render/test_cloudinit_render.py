"""cloud-init user-data as rendered: its size against the cloud's limit, gzip, each file once and byte-exact,
and what it says about secrets. The runner itself runs in test_cloudinit_runner.py and under the real
cloud-init in tests/e2e/test_cloudinit_real.py."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from stackscripts import api
from stackscripts.errors import BadInput
from stackscripts.render.cloudinit import EC2_USER_DATA_LIMIT
from tests.render.cloudinit_helpers import CiStep, document, write_template, written_files
from tests.support.cli import ROOT, cli_command, cli_env, envelope, no_traceback, run_cli

pytestmark = pytest.mark.timeout(120)

FLAGSHIP = "servertemplates/docker-all-in-one.yaml"
APP = ("-i", "APP_API_IMAGE=text:x", "-i", "APP_WORKER_IMAGE=text:registry.local/worker:2")
LIB = (ROOT / "scripts" / "attachments" / "stackscripts-lib.sh").read_bytes()
SECRET = "s3cr3t-registry-Pa55"
CREDS = {"STACKSCRIPTS_CRED_REGISTRY_PASSWORD": SECRET, "STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD": "m4r1a-r00t-pw"}


def test_the_flagship_over_ec2s_limit_is_refused_naming_the_limit() -> None:
    done = run_cli("templates", "render", FLAGSHIP, "--cloud-init", "--creds-on-instance", "ssm", *APP)
    assert done.returncode == 2 and done.stdout == ""
    no_traceback(done.stderr)
    message = done.stderr.strip()
    assert "\n" not in message
    assert message.startswith(f"stackscripts: error: {FLAGSHIP}: the user-data is ")
    assert "bytes, over the limit of 16,384 bytes (EC2's): a cloud with that limit refuses to launch the " \
           "instance." in message
    gzipped = run_cli("templates", "render", FLAGSHIP, "--cloud-init", "--creds-on-instance", "ssm", "--gzip", *APP)
    assert gzipped.returncode == 2 and "bytes gzip-compressed, over the limit of 16,384 bytes (EC2's)" in gzipped.stderr
    assert "Ship less at boot" in gzipped.stderr and "--max-size BYTES" in gzipped.stderr


def test_the_flagship_gzipped_with_each_file_once() -> None:
    """Docker All-in-One is a little over EC2's 16 KB even gzipped since its check speaks each service's protocol
    (docs/formats.md): a cloud that accepts more is named with --max-size."""
    done = subprocess.run(cli_command("templates", "render", FLAGSHIP, "--cloud-init", "--creds-on-instance", "ssm",
                                      "--gzip", "--max-size", "20000", *APP), cwd=ROOT, env=cli_env(),
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = done.stdout
    assert data[:2] == b"\x1f\x8b" and EC2_USER_DATA_LIMIT < len(data) <= 20_000
    assert f"stackscripts: user-data: {len(data):,} bytes gzip-compressed, limit 20,000 bytes\n" \
        in done.stderr.decode()
    assert gzip.decompress(data).startswith(b"#cloud-config\n")
    files = written_files(data)
    assert [p for p, (_, d) in files.items() if d == LIB] == [
        f"/var/lib/stackscripts/cloud-init/blobs/{hashlib.sha256(LIB).hexdigest()}"]
    scripts = [p for p in files if p.endswith("/script")]
    assert len(scripts) == 6
    assert files["/var/lib/stackscripts/cloud-init/steps/01-install-docker/script"][1] == \
        (ROOT / "scripts" / "install-docker.sh").read_bytes()


def test_json_gives_the_gzip_base64_encoded_with_size_limit_and_notes() -> None:
    doc = envelope(run_cli("templates", "render", FLAGSHIP, "--cloud-init", "--creds-on-instance", "ssm", "--gzip",
                           "--max-size", "20000", *APP, "--json"))
    data = doc["data"]
    raw = base64.b64decode(data["user_data_base64"])  # what EC2's RunInstances takes as UserData
    assert gzip.decompress(raw).decode() == data["user_data"]
    assert data["size"] == len(raw) and data["gzip"] is True and data["max_size"] == 20_000
    assert any("cred:REGISTRY_PASSWORD" in note and "ssm:GetParameter" in note for note in data["notes"])
    assert SECRET not in data["user_data"]


def test_max_size_other_limits_and_no_limit(tmp_path: Path) -> None:
    template = write_template(tmp_path, [CiStep("Hello", "echo hello\n")])
    small = run_cli("templates", "render", str(template), "--cloud-init", "--max-size", "1000")
    assert small.returncode == 2 and "over the limit of 1,000 bytes: a cloud with that limit refuses" in small.stderr
    assert "Ship less at boot" in small.stderr and "--max-size BYTES" in small.stderr
    no_traceback(small.stderr)
    unlimited = run_cli("templates", "render", str(template), "--cloud-init", "--max-size", "0")
    assert unlimited.returncode == 0 and unlimited.stdout.startswith("#cloud-config\n")
    assert re.fullmatch(r"stackscripts: user-data: [\d,]+ bytes \(gzip: [\d,]+\), no size limit checked\n",
                        unlimited.stderr)
    negative = run_cli("templates", "render", str(template), "--cloud-init", "--max-size", "-1")
    assert negative.returncode == 2 and "size limit must be a positive number of bytes" in negative.stderr
    fits = api.user_data(template)
    assert fits.size == len(fits.text.encode()) <= EC2_USER_DATA_LIMIT and fits.max_size == EC2_USER_DATA_LIMIT


def test_gzip_to_a_terminal_is_refused() -> None:
    parent, child = pty.openpty()
    done = subprocess.run(cli_command("templates", "render", FLAGSHIP, "--cloud-init", "--creds-on-instance", "ssm",
                                      "--gzip", "--max-size", "20000", *APP), cwd=ROOT, env=cli_env(), stdout=child,
                          stderr=subprocess.PIPE, timeout=120, text=True)
    os.close(child)
    os.close(parent)
    assert done.returncode == 2 and "gzip user-data is binary and stdout is a terminal" in done.stderr


def test_a_secret_is_refused_with_the_better_way_named() -> None:
    done = run_cli("templates", "render", FLAGSHIP, "--cloud-init", *APP, env=CREDS)
    assert done.returncode == 2 and done.stdout == ""
    assert "needs secret input REGISTRY_PASSWORD (cred:REGISTRY_PASSWORD)" in done.stderr
    assert "Pass --creds-on-instance ssm (or secretsmanager): the instance fetches cred: values at boot through " \
           "its role, so no secret is in the user-data." in done.stderr
    assert "--include-secrets embeds it anyway" in done.stderr and "/var/lib/cloud/instance/" in done.stderr


def test_include_secrets_says_where_the_secret_stays() -> None:
    done = run_cli("templates", "render", FLAGSHIP, "--cloud-init", "--include-secrets", "--max-size", "0", *APP,
                   env=CREDS)
    assert done.returncode == 0, done.stderr
    note = next(line for line in done.stderr.splitlines() if line.startswith("stackscripts: note:"))
    assert "the user-data holds secret values (MARIADB_ROOT_PASSWORD, REGISTRY_PASSWORD)" in note
    assert "cloud-init keeps copies under /var/lib/cloud/instance/" in note and "--creds-on-instance" in note
    assert SECRET not in done.stdout  # embedded base64-encoded in the env file, not in clear at a glance
    envs = {p: d for p, (_, d) in written_files(done.stdout).items() if p.endswith("/env")}
    assert f"REGISTRY_PASSWORD={SECRET}".encode() in envs[
        "/var/lib/stackscripts/cloud-init/steps/03-registry-keys/env"].split(b"\0")


TRICKY = {
    "crlf.txt": b"windows\r\nline\r\n",
    "trailing-spaces.txt": b"a line with trailing spaces   \nand a tab\t\n",
    "no-final-newline.txt": b"last line",
    "leading-space.txt": b"  indented first line\n\n\n",
    "nul-and-controls.bin": b"a\x00b\x1b[31mred\x07\x7f",
    "binary.bin": bytes(range(256)),
    "unicode.txt": "\ufeffbom, ☃, \u2028 line separator, \x85 next line\n".encode(),
    "yaml-looking.txt": b"key: value\n- item\n--- \n...\n# comment\n'quoted'\n",
}


def test_every_file_is_written_byte_exact(tmp_path: Path) -> None:
    step = CiStep("Tricky", "ls \"$RS_ATTACH_DIR\"\n", attachments=TRICKY)
    text = api.user_data(write_template(tmp_path, [step]), max_size=None).text
    files = written_files(text)
    for name, data in TRICKY.items():
        assert files[f"/var/lib/stackscripts/cloud-init/steps/01-tricky/attachments/{name}"] == (0o600, data), name
    assert files["/var/lib/stackscripts/cloud-init/steps/01-tricky/script"][1] == \
        (tmp_path / "scripts" / "tricky.sh").read_bytes()
    readable = [e["path"] for e in document(text)["write_files"] if "encoding" not in e]
    assert "/var/lib/stackscripts/cloud-init/steps/01-tricky/script" in readable  # text stays readable


def test_the_template_name_cannot_add_yaml(tmp_path: Path) -> None:
    template = write_template(tmp_path, [CiStep("Hello", "echo hi\n")], name="x\nruncmd: [[touch, /tmp/PWNED]]\n#")
    doc = document(api.user_data(template).text)
    assert doc["runcmd"] == [["bash", "/var/lib/stackscripts/cloud-init/runner.sh"]]


def test_bad_creds_source_from_the_api(tmp_path: Path) -> None:
    template = write_template(tmp_path, [CiStep("Hello", "echo hi\n")])
    with pytest.raises(BadInput, match="unknown credential source 'vault' for the instance. Use ssm"):
        api.user_data(template, creds_on_instance="vault")
