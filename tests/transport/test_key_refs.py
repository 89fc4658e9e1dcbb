"""A server's SSH key as a `cred:NAME` reference: recorded by one person, used by a colleague with another HOME.

Real sshd on loopback; its client key is put into the file backend (each person's own credentials file) and
into SSM on a moto server; the CLI runs in fresh processes. The key text never reaches the store file, a
terminal or a JSON envelope; a reference nobody can resolve is exit 2 naming the server; the host key recorded
by the first connection is the one a colleague trusts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stackscripts.inputs.creds import FileBackend, SSMBackend
from tests.support.cli import envelope, no_traceback, run_cli
from tests.support.moto import MotoServer
from tests.support.rightscripts import write_rightscript
from tests.support.sshd import SshdServer

pytestmark = pytest.mark.timeout(180)


@dataclass
class Person:
    """One user: a HOME of their own (config, state, credentials file) and the shared store."""

    home: Path
    db: Path
    extra: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    @property
    def credentials(self) -> Path:
        return self.home / ".config" / "stackscripts" / "credentials.yaml"

    def env(self) -> dict[str, str]:
        return {"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_STATE_HOME": str(self.home / ".local" / "state"), "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", **self.extra}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, "--db", str(self.db), env=self.env(), cwd=self.home)
        self.outputs += [done.stdout, done.stderr]
        no_traceback(done.stdout + done.stderr)
        return done

    def json(self, *args: str, code: int = 0) -> dict:
        done = self.run(*args, "--json")
        return envelope(done, code, quiet_stderr=False)


@dataclass
class World:
    sshd: SshdServer
    template: Path
    alice: Person
    bob: Person

    @property
    def key_text(self) -> str:
        return Path(self.sshd.key_path).read_text()

    def assert_key_never_shown(self) -> None:
        """No line of the private key's body in the store's files (SQLite and its WAL) or in any output."""
        body = [line for line in self.key_text.splitlines() if len(line) >= 20 and "PRIVATE KEY" not in line]
        assert body
        stored = b"".join(p.read_bytes() for p in self.alice.db.parent.glob(self.alice.db.name + "*"))
        shown = "".join(self.alice.outputs + self.bob.outputs)
        for line in body:
            assert line.encode() not in stored, "the private key is in the store file"
            assert line not in shown, "the private key was printed"


@pytest.fixture
def world(sshd: SshdServer, tmp_path: Path) -> Iterator[World]:
    lib = tmp_path / "lib"
    write_rightscript(lib, "Mark Boot", 'echo "booted $STACKSCRIPTS_SERVER"\n')
    write_rightscript(lib, "Say Hi", 'echo "hi from $STACKSCRIPTS_SERVER as $(id -un)"\n')
    template = lib / "template.yaml"
    template.write_text("Name: Shared\nRightScripts:\n  Boot:\n  - mark-boot.sh\n  Operational:\n  - say-hi.sh\n")
    db = tmp_path / "team.db"
    homes = [tmp_path / "alice", tmp_path / "bob"]
    for home in homes:
        home.mkdir()
    yield World(sshd, template, Person(homes[0], db), Person(homes[1], db))


def add_boot_and_run(world: World, key: str) -> None:
    """Alice records web1 with the reference and boots it; Bob, from his own HOME, runs a script on it."""
    sshd, alice, bob = world.sshd, world.alice, world.bob
    added = alice.json("servers", "add", "web1", "--host", f"{sshd.user}@{sshd.host}", "--port", str(sshd.port),
                       "--key", key)
    assert added["data"]["key_path"] == key
    booted = alice.json("boot", "web1", "-t", str(world.template))
    assert booted["data"]["state"] == "succeeded"
    shown = bob.json("servers", "show", "web1")["data"]
    assert shown["key_path"] == key and shown["host_key"] == sshd.host_key_line
    ran = bob.run("run", "web1", "Say Hi")
    assert ran.returncode == 0, ran.stderr
    log = bob.json("runs", "list")["data"]
    assert [r["state"] for r in log] == ["succeeded", "succeeded"]
    assert f"hi from web1 as {sshd.user}" in bob.run("runs", "log", log[0]["id"], "1").stdout


def test_a_key_in_each_persons_credentials_file(world: World) -> None:
    for person in (world.alice, world.bob):
        FileBackend(person.credentials).put("web1-ssh", world.key_text)
    add_boot_and_run(world, "cred:web1-ssh")
    world.assert_key_never_shown()


def test_a_key_in_ssm_reached_through_the_teams_key_backend(world: World, moto_server: MotoServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    SSMBackend().put("keys/web1", world.key_text)
    world.alice.extra = {**moto_server.env(), "STACKSCRIPTS_KEY_BACKEND": "ssm"}
    project = world.bob.home.parent / "team" / "stackscripts.yaml"  # Bob has it from the team's project file
    project.parent.mkdir()
    project.write_text("keys: ssm\n")
    world.bob.extra = {**moto_server.env(), "STACKSCRIPTS_PROJECT": str(project)}
    add_boot_and_run(world, "cred:keys/web1")
    world.assert_key_never_shown()

    lost = Person(world.bob.home, world.bob.db)  # no project file, no key backend: env and file only
    failed = lost.json("run", "web1", "Say Hi", code=2)
    message = failed["error"]["message"]
    assert "web1" in message and "cred:keys/web1" in message and "STACKSCRIPTS_CRED_KEYS_WEB1" in message


def test_a_reference_nobody_has_is_exit_2_naming_the_server(world: World) -> None:
    sshd, alice = world.sshd, world.alice
    alice.json("servers", "add", "web2", "--host", f"{sshd.user}@{sshd.host}", "--port", str(sshd.port),
               "--key", "cred:absent-key")
    done = alice.run("boot", "web2", "-t", str(world.template))
    assert done.returncode == 2 and done.stdout == ""
    assert "web2" in done.stderr and "cred:absent-key" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    failed = alice.json("boot", "web2", "-t", str(world.template), code=2)
    assert "cred:absent-key" in failed["error"]["message"]
    assert alice.json("runs", "list")["data"] == []  # nothing ran, nothing recorded
    assert alice.json("servers", "show", "web2")["data"]["host_key"] is None  # never connected

    bad = alice.json("servers", "add", "web3", "--host", "root@127.0.0.1", "--key", "cred:no spaces", code=2)
    assert "invalid credential name" in bad["error"]["message"]
    assert [s["name"] for s in alice.json("servers", "list")["data"]] == ["web2"]


def test_a_colleague_trusts_the_recorded_host_key_and_refuses_another(world: World) -> None:
    for person in (world.alice, world.bob):
        FileBackend(person.credentials).put("web1-ssh", world.key_text)
    add_boot_and_run(world, "cred:web1-ssh")
    recorded = world.sshd.host_key_line
    world.sshd.restart(new_host_key=True)  # an impostor on the same address
    refused = world.bob.run("run", "web1", "Say Hi")
    assert refused.returncode == 2, refused.stderr
    assert "host key" in refused.stderr and "servers forget-key web1" in refused.stderr
    assert world.bob.json("servers", "show", "web1")["data"]["host_key"] == recorded
    assert not (world.bob.home / ".ssh").exists()  # trust comes from the store, not a known_hosts file


@pytest.mark.parametrize("kind", ["rsa-pem", "ecdsa-openssh", "ed25519-openssh"])
def test_any_key_type_loads_from_a_credential_in_memory(sshd: SshdServer, kind: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An RSA key in the old PEM format (what many teams keep), ECDSA and Ed25519 in OpenSSH's: from the env
    backend, CRLF line ends and all, with no file anywhere."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from stackscripts.transport.ssh import SSHTransport

    made = {"rsa-pem": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ecdsa-openssh": lambda: ec.generate_private_key(ec.SECP256R1()),
            "ed25519-openssh": ed25519.Ed25519PrivateKey.generate}[kind]()
    pem = made.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL if kind == "rsa-pem"
                             else serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()
    public = made.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    (sshd.tmpdir / "authorized_keys").write_text(public.decode() + "\n")  # only this key may log in
    monkeypatch.setenv("STACKSCRIPTS_CRED_BACKENDS", "env")
    monkeypatch.setenv("STACKSCRIPTS_CRED_WEB1_KEY", pem.replace("\n", "\r\n"))
    with SSHTransport().open(sshd.host_spec(key_path="cred:web1-key")) as session:
        assert session.run_command("echo in").stdout == b"in\n"


def test_a_credential_that_is_not_a_key_is_refused_without_showing_it(sshd: SshdServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from stackscripts.errors import ConnectionFailed
    from stackscripts.transport.ssh import SSHTransport

    monkeypatch.setenv("STACKSCRIPTS_CRED_BACKENDS", "env")
    monkeypatch.setenv("STACKSCRIPTS_CRED_WEB1_KEY", "hunter2-not-a-key")
    with pytest.raises(ConnectionFailed) as info:
        SSHTransport().open(sshd.host_spec(key_path="cred:web1-key"))
    message = str(info.value)
    assert message.startswith("web1: cannot use the private key cred:web1-key: not a private key")
    assert "hunter2" not in message and info.value.exit_code == 2
