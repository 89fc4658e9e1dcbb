"""Launch faults on the local cloud: Ctrl-C mid-launch and a failing boot leave nothing orphaned."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.support.rightscripts import write_rightscript
from tests.support.waits import wait_until

from .conftest import Cli, docker_names, local_template

pytestmark = pytest.mark.e2e

TEMPLATE = local_template("Sleeper", "sleeper.sh")
SLEEPER = 'echo "sleeping $SLEEP"\n[ "$FAIL" = yes ] && exit 3\nsleep "$SLEEP"\n'


def sleeper(tmp_path: Path) -> Path:
    write_rightscript(tmp_path, "Sleeper", SLEEPER, inputs={"SLEEP": "text:30", "FAIL": "text:no"})
    template = tmp_path / "sleeper.yaml"
    template.write_text(TEMPLATE)
    return template


def destroy_leftover(name: str) -> None:
    """An earlier interrupted test run may have left an instance of this name."""
    from stackscripts.providers.local import LocalNodeDriver

    LocalNodeDriver().destroy_node(name)


def test_ctrl_c_during_launch_destroys_the_instance(cli: Cli, tmp_path: Path) -> None:
    name = "e2e-ctrlc"
    destroy_leftover(name)
    proc = cli.spawn("launch", str(sleeper(tmp_path)), "--name", name)
    wait_until(lambda: docker_names(name) or proc.poll() is not None, 120, "the instance to be created")
    assert docker_names(name), f"the instance was never created: {proc.communicate()}"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert docker_names(name) == []
    code, show = cli.json("servers", "show", name)
    assert show["data"]["state"] == "terminated"


def test_failed_boot_keeps_or_destroys_as_asked(cli: Cli, tmp_path: Path) -> None:
    template = str(sleeper(tmp_path))
    for name in ("e2e-kept", "e2e-gone"):
        destroy_leftover(name)
    code, doc = cli.json("launch", template, "--name", "e2e-kept", "-i", "FAIL=text:yes")
    try:
        assert code == 1 and doc["error"]["exit_code"] == 1
        assert docker_names("e2e-kept") == ["e2e-kept"], "a failed boot leaves the server stranded, for resume"
        _, show = cli.json("servers", "show", "e2e-kept")
        assert show["data"]["state"] == "stranded"
    finally:
        cli.run("terminate", "e2e-kept")
    code, doc = cli.json("launch", template, "--name", "e2e-gone", "-i", "FAIL=text:yes", "--destroy-on-failure")
    assert code == 1
    assert docker_names("e2e-gone") == []
