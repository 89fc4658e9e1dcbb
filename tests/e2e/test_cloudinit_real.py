"""cloud-init user-data under the real cloud-init (Debian's 22.4) in a local instance.

The instance's image is the local cloud's base image plus Debian's cloud-init package, built once and kept
(keyed on the base image and the recipe). Each boot writes a NoCloud seed and runs cloud-init's stages by
hand, as a cloud's boot would: init --local, init, modules --mode=config, modules --mode=final.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackscripts import api
from tests.providers.conftest import RUN_LABEL, KeyPair, key_pair, local_base_image, local_driver, test_run_id  # noqa: F401
from tests.render.cloudinit_helpers import CiStep, write_template

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

IMAGE = "stackscripts/debian-cloud-init:bookworm"
RECIPE_LABEL = "stackscripts.cloud-init-recipe"
# The instance's SysV init would run cloud-init's rc scripts at start, racing the stages the tests run by hand:
# their links go, so cloud-init runs only when a test runs it.
RECIPE = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
          "cloud-init >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/* && rm -f /etc/rc?.d/[SK]??cloud-*")
CONFIG = "datasource_list: [NoCloud, None]\nlocale: false\n"  # no locales package in the image
STAGES = ("init --local", "init", "modules --mode=config", "modules --mode=final")
SECRET = "Cl0ud-init-s3cret"


def docker(*args: str, stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, timeout=timeout, check=False)


def cloud_init_image(base: str) -> str:
    """The base image with cloud-init installed; rebuilt when the base image or the recipe changes."""
    base_id = docker("image", "inspect", "--format", "{{.Id}}", base).stdout.decode().strip()
    digest = hashlib.sha256(f"{base_id}\n{RECIPE}".encode()).hexdigest()[:16]

    def current() -> bool:
        found = docker("image", "inspect", "--format", "{{json .Config.Labels}}", IMAGE)
        return found.returncode == 0 and (json.loads(found.stdout) or {}).get(RECIPE_LABEL) == digest

    if current():
        return IMAGE
    with open(Path(tempfile.gettempdir()) / "stackscripts-cloud-init-image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if current():
            return IMAGE
        cmd = docker("image", "inspect", "--format", "{{json .Config.Cmd}}", base).stdout.decode().strip()
        builder = f"stackscripts-cloud-init-build-{uuid.uuid4().hex[:8]}"
        try:
            built = docker("run", "--name", builder, base, "bash", "-c", RECIPE, timeout=600)
            assert built.returncode == 0, f"installing cloud-init failed:\n{built.stderr.decode()[-3000:]}"
            committed = docker("commit", "--change", f"CMD {cmd}", "--change", f"LABEL {RECIPE_LABEL}={digest}",
                               builder, IMAGE)
            assert committed.returncode == 0, committed.stderr.decode()
        finally:
            docker("rm", "-f", builder)
    return IMAGE


@pytest.fixture(scope="module")
def instance(local_driver, key_pair: KeyPair, test_run_id: str, local_base_image: str) -> Iterator[str]:  # noqa: F811
    """A running local instance of the cloud-init image; its name is its container's."""
    image = cloud_init_image(local_base_image)
    node = local_driver.create_node(f"{test_run_id}-cloud-init", "small", image, ex_authorized_key=key_pair.public,
                                    ex_labels={RUN_LABEL: test_run_id})
    try:
        yield node.name
    finally:
        local_driver.destroy_node(node)


@dataclass(frozen=True)
class Booted:
    instance: str
    final_code: int  # `cloud-init modules --mode=final`: nonzero when runcmd's runner failed

    def sh(self, command: str) -> str:
        done = docker("exec", self.instance, "bash", "-c", command)
        assert done.returncode == 0, f"{command}: {done.stderr.decode()}"
        return done.stdout.decode()

    def read(self, path: str) -> bytes:
        done = docker("exec", self.instance, "cat", path)
        assert done.returncode == 0, f"{path}: {done.stderr.decode()}"
        return done.stdout

    def console(self) -> list[str]:
        """Our lines in cloud-init-output.log, what EC2 shows as the console output."""
        text = self.read("/var/log/cloud-init-output.log").decode()
        return [line for line in text.splitlines() if line.startswith(("stackscripts: ", "  | "))]


def cloud_init_boot(instance: str, user_data: bytes) -> Booted:
    """A fresh instance as far as cloud-init knows: clean state, a new instance-id, the stages in order."""
    reset = ("cloud-init clean --logs && rm -rf /var/lib/stackscripts /var/log/stackscripts /root/out && "
             "mkdir -p /root/out /var/lib/cloud/seed/nocloud /etc/cloud/cloud.cfg.d")
    assert docker("exec", instance, "bash", "-c", reset).returncode == 0
    files = {"/var/lib/cloud/seed/nocloud/user-data": user_data,
             "/var/lib/cloud/seed/nocloud/meta-data": f"instance-id: i-{uuid.uuid4().hex[:12]}\n".encode(),
             "/etc/cloud/cloud.cfg.d/99-stackscripts-test.cfg": CONFIG.encode()}
    for path, data in files.items():
        assert docker("exec", "-i", instance, "sh", "-c", f"cat > {path}", stdin=data).returncode == 0
    code = 0
    for stage in STAGES:
        done = docker("exec", instance, "bash", "-c", f"cloud-init {stage}", timeout=300)
        code = done.returncode
    return Booted(instance, code)


GOOD = [
    CiStep("Inputs", """\
        printf '%s' "$VALUE" > /root/out/value
        cp "$RS_ATTACH_DIR/app.conf" /root/out/app.conf
        cmp -s "$RS_ATTACH_DIR/lib.sh" /root/lib.expected && echo same > /root/out/lib.1
        umask > /root/out/umask
        stat -c %a "${RS_ATTACH_DIR%/attachments}" "$RS_ATTACH_DIR" "$PWD" > /root/out/private
        echo '<h1>site</h1>' > /root/out/index.html && mkdir /root/out/site.d
        echo 1 >> /root/out/order
        """, {"VALUE": "text:x"}, {"app.conf.j2": "value={{ VALUE }}\n", "lib.sh": "echo lib\n" * 50}),
    CiStep("Flaky", """\
        echo attempt >> /root/out/attempts
        [ -e /root/out/failed-once ] || { touch /root/out/failed-once; echo "first attempt fails" >&2; exit 3; }
        echo 2 >> /root/out/order
        """, retries=1),
    CiStep("Shares", """\
        cmp -s "$RS_ATTACH_DIR/lib.sh" /root/lib.expected && echo same > /root/out/lib.3
        echo 3 >> /root/out/order
        """, attachments={"lib.sh": "echo lib\n" * 50}),
]
VALUE = "it's \"q\" $(touch /root/out/PWNED) `x` ${HOME}\n\ttab ☃\n"


def test_a_boot_runs_in_order_byte_exact_with_retries(instance: str, tmp_path: Path) -> None:
    assert docker("exec", instance, "bash", "-c", "command -v cloud-init").returncode == 0
    template = write_template(tmp_path, GOOD, name="Real cloud-init")
    user_data = api.user_data(template, [f"VALUE=text:{VALUE}"], gzip=True)  # gzip user-data, as EC2 would get it
    assert docker("exec", "-i", instance, "sh", "-c", "cat > /root/lib.expected",
                  stdin=b"echo lib\n" * 50).returncode == 0

    booted = cloud_init_boot(instance, user_data.data)

    assert booted.final_code == 0, booted.read("/var/log/cloud-init-output.log").decode()[-3000:]
    assert booted.read("/root/out/order") == b"1\n2\n3\n"
    assert booted.read("/root/out/value") == VALUE.encode()
    assert booted.read("/root/out/app.conf") == f"value={VALUE}\n".encode()
    assert booted.sh("ls /root/out").split().count("PWNED") == 0
    assert booted.read("/root/out/lib.1") == booted.read("/root/out/lib.3") == b"same\n"
    assert booted.read("/root/out/attempts") == b"attempt\nattempt\n"
    assert booted.read("/root/out/umask") == b"0022\n"
    assert booted.read("/root/out/private").split() == [b"700", b"700", b"700"]  # bundle, attachments, work
    assert booted.sh("stat -c %a /root/out/index.html /root/out/site.d").split() == ["644", "755"]
    assert booted.read("/var/log/stackscripts/state") == b"operational\n"
    console = booted.console()
    assert console[0] == "stackscripts: boot sequence: 3 steps; output in /var/log/stackscripts"
    assert [line.split(" (")[0] for line in console[1:]] == [
        "stackscripts: step 1/3 Inputs: started", "stackscripts: step 1/3 Inputs: done, exit code 0",
        "stackscripts: step 2/3 Flaky: started",
        "stackscripts: step 2/3 Flaky: attempt 1 failed", "stackscripts: step 2/3 Flaky: done, exit code 0",
        "stackscripts: step 3/3 Shares: started", "stackscripts: step 3/3 Shares: done, exit code 0",
        "stackscripts: operational: all 3 steps done"]
    assert booted.sh("find /var/lib/stackscripts/cloud-init -type f").split() == [
        "/var/lib/stackscripts/cloud-init/runner.sh"]


FAILING = [
    CiStep("Fine", "echo 1 >> /root/out/order\n"),
    CiStep("Hangs", "echo 'about to hang'\nsleep 600 &\nwait\n", timeout=2),
    CiStep("Never", 'echo 3 >> /root/out/order\necho "$PASSWORD"\n', {"PASSWORD": "cred:CLOUD_INIT_TEST_PASSWORD"}),
]


def test_a_hung_step_is_stopped_by_its_timeout_and_the_boot_strands(instance: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_CRED_CLOUD_INIT_TEST_PASSWORD", SECRET)
    template = write_template(tmp_path, FAILING, name="Real cloud-init, failing")
    user_data = api.user_data(template, include_secrets=True)
    assert any("/var/lib/cloud/instance/" in note for note in user_data.notes)

    booted = cloud_init_boot(instance, user_data.data)

    assert booted.final_code != 0  # cloud-init reports the failed runcmd
    assert booted.read("/root/out/order") == b"1\n"
    assert booted.read("/var/log/stackscripts/state") == b"stranded\n"
    rows = booted.read("/var/log/stackscripts/steps.tsv").decode().splitlines()[1:]
    assert [(r.split("\t")[0], r.split("\t")[4]) for r in rows] == [("01-fine", "0"), ("02-hangs", "124")]
    console = booted.console()
    assert any(line.startswith("stackscripts: step 2/3 Hangs: FAILED, timed out after 2s, exit code 124 (")
               for line in console), console
    assert "  | about to hang" in console
    assert console[-1] == "stackscripts: stranded at step 2/3 (Hangs): the later steps did not run; output in " \
                          "/var/log/stackscripts"
    assert booted.sh("find /var/lib/stackscripts/cloud-init -type f").split() == [
        "/var/lib/stackscripts/cloud-init/runner.sh"], "no env file (the later step's secret) is left behind"
    assert booted.sh("grep -rl -- " + SECRET + " /var/lib/stackscripts /var/log /root || true") == ""
    assert booted.sh("pgrep -x sleep || true") == "", "the hung step's processes are gone"
    # What --include-secrets means: cloud-init keeps the user-data, so the embedded secret, for the instance's life.
    assert booted.read("/var/lib/cloud/instance/user-data.txt") == user_data.data
