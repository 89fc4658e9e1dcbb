"""`cred:` inputs fetched on the instance at boot (--creds-on-instance): no secret in the user-data at all.

The runner fetches each value with the aws CLI (SSM Parameter Store or Secrets Manager) into the step's
private env file, byte-exact. Here the runner runs on this machine with real bash and the real aws CLI
against the session's moto server, standing in for the instance and its role.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import boto3
import pytest

from stackscripts import api
from stackscripts.errors import BadInput
from tests.render.cloudinit_helpers import CiStep, boot, write_template, written_files
from tests.support.moto import MotoServer
from tests.support.parts import require_binary

pytestmark = pytest.mark.timeout(120)

VALUE = "pa ss'\"$(touch PWNED) `x` ${HOME}\n\ttabbed ☃\nends with a newline\n"
READS = """\
    printf '%s' "$PASSWORD" > "$OUT/password"
    printf '%s' "$PLAIN" > "$OUT/plain"
    """


@pytest.fixture(autouse=True)
def no_controller_creds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The controller has no credential at all: anything it tried to fetch would fail."""
    monkeypatch.setenv("STACKSCRIPTS_CREDENTIALS", str(tmp_path / "no-such-credentials.yaml"))
    for name in ("STACKSCRIPTS_SSM_PREFIX", "STACKSCRIPTS_SECRETS_PREFIX", "STACKSCRIPTS_CRED_BACKENDS"):
        monkeypatch.delenv(name, raising=False)


def store(moto: MotoServer, source: str, name: str, value: str) -> None:
    env = moto.env()
    options = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": env["AWS_REGION"],
               "aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
    if source == "ssm":
        boto3.client("ssm", **options).put_parameter(Name=f"/stackscripts/{name}", Value=value, Type="SecureString")
    else:
        boto3.client("secretsmanager", **options).create_secret(Name=f"/stackscripts/{name}", SecretString=value)


def template(tmp_path: Path, cred: str) -> Path:
    inputs = {"OUT": "text:/nonexistent", "PASSWORD": f"cred:{cred}", "PLAIN": "text:plain-value"}
    return write_template(tmp_path / "t", [CiStep("Reads", READS, inputs),
                                           CiStep("After", 'echo after > "$OUT/after"\n', {"OUT": "text:/x"})])


@pytest.mark.parametrize("source", ["ssm", "secretsmanager"])
def test_the_instance_fetches_the_credential_byte_exact(source: str, tmp_path: Path, moto_server: MotoServer) -> None:
    require_binary("aws", "the aws CLI (apt-get install awscli)")
    cred = f"ci/{uuid.uuid4().hex[:8]}/db-password"
    store(moto_server, source, cred, VALUE)
    out = tmp_path / "out"
    out.mkdir()

    user_data = api.user_data(template(tmp_path, cred), [f"OUT=text:{out}"], creds_on_instance=source, max_size=None)

    everything = user_data.text.encode() + b"".join(data for _, data in written_files(user_data.text).values())
    assert b"pa ss" not in everything and base64.b64encode(VALUE.encode()) not in user_data.text.encode()
    runner = written_files(user_data.text)["/var/lib/stackscripts/cloud-init/runner.sh"][1].decode()
    assert f"\ncred PASSWORD {cred}\nrun 0 0 PASSWORD\n" in runner  # the credential's name, never its value
    assert any(f"cred:{cred}" in note and "aws CLI" in note for note in user_data.notes)
    done = boot(user_data.text, tmp_path, moto_server.env())
    assert done.code == 0, done.console + (done.log / "01-reads.stderr").read_text()
    assert (out / "password").read_bytes() == VALUE.encode()
    assert (out / "plain").read_text() == "plain-value"
    assert (out / "after").exists() and done.state() == "operational"
    assert done.leftovers() == []
    assert not list(tmp_path.rglob("PWNED"))


def test_a_credential_the_instance_cannot_fetch_strands_the_boot(tmp_path: Path, moto_server: MotoServer) -> None:
    require_binary("aws", "the aws CLI (apt-get install awscli)")
    cred = f"ci/{uuid.uuid4().hex[:8]}/missing"
    out = tmp_path / "out"
    out.mkdir()
    user_data = api.user_data(template(tmp_path, cred), [f"OUT=text:{out}"], creds_on_instance="ssm", max_size=None)
    done = boot(user_data.text, tmp_path, moto_server.env())
    assert done.code != 0 and done.state() == "stranded"
    assert f"stackscripts: PASSWORD: could not fetch cred:{cred} (ssm /stackscripts/{cred}, aws exit code" \
        in done.console
    assert f"step 1/2 Reads: FAILED, exit code {done.code}, before the step ran" in done.console
    assert not (out / "password").exists() and not (out / "after").exists()
    assert done.leftovers() == []


def test_without_the_aws_cli_the_step_fails_with_a_clear_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    user_data = api.user_data(template(tmp_path, "ci/x"), [f"OUT=text:{out}"], creds_on_instance="secretsmanager",
                              max_size=None)
    bin_dir = tmp_path / "bin"  # a PATH with what the runner needs, and no aws
    bin_dir.mkdir()
    for tool in ("bash", "date", "awk", "mkdir", "chmod", "rm", "cp", "install", "printf", "tee", "tail", "sed",
                 "timeout", "cat", "seq"):
        (bin_dir / tool).symlink_to(require_binary(tool))
    done = boot(user_data.text, tmp_path, {"PATH": str(bin_dir)})
    assert done.code == 127 and done.state() == "stranded"
    assert "stackscripts: PASSWORD: cred:ci/x is fetched on the instance with the aws CLI, which is not installed" \
        in done.console


def test_a_prefix_comes_from_the_controllers_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_SECRETS_PREFIX", "/prod/app/")
    user_data = api.user_data(template(tmp_path, "db"), ["OUT=text:/x"], creds_on_instance="secretsmanager",
                              max_size=None)
    runner = written_files(user_data.text)["/var/lib/stackscripts/cloud-init/runner.sh"][1].decode()
    assert "creds_from=secretsmanager\ncreds_prefix=/prod/app/\n" in runner
    assert any("Secrets Manager (/prod/app/NAME)" in note for note in user_data.notes)


def test_an_array_with_a_credential_is_refused_on_the_instance(tmp_path: Path) -> None:
    step = CiStep("Arr", "echo \"$KEYS\"\n", {"KEYS": 'array:["text:a","cred:k"]'})
    with pytest.raises(BadInput, match=r"needs secret input KEYS .*fetches only plain cred:NAME values, and KEYS "
                                       r"is an array"):
        api.user_data(write_template(tmp_path / "t", [step]), creds_on_instance="ssm", max_size=None)


def test_a_j2_attachment_using_a_credential_fetched_at_boot_is_refused(tmp_path: Path) -> None:
    step = CiStep("Conf", "cat \"$RS_ATTACH_DIR/app.conf\"\n", {"PASSWORD": "cred:db"},
                  {"app.conf.j2": "password={{ PASSWORD }}\n"})
    with pytest.raises(BadInput, match=r"a \.j2 attachment uses PASSWORD, which --creds-on-instance fetches only on "
                                       r"the instance at boot"):
        api.user_data(write_template(tmp_path / "t", [step]), creds_on_instance="ssm", max_size=None)
