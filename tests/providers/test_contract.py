"""One contract for every provider: the local cloud (real Docker) and EC2 (a real moto server).

launch -> an instance with a node id and an address -> listed by its server tag -> destroy ->
gone; destroy is idempotent; a launch that fails after create leaves nothing behind. Servers
added by hand (`servers add`, no cloud) have their own contract: terminate runs the
Decommission scripts and touches no cloud.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from stackscripts.api.launcher import Launcher
from stackscripts.clouds import load_clouds
from stackscripts.errors import BadInput, CloudError
from stackscripts.model import CloudSettings, VolumeSpec
from stackscripts.providers.base import (
    LAUNCH_TAG,
    SERVER_TAG,
    TEMPLATE_TAG,
    LaunchSpec,
    Provider,
    providers,
)
from tests.support.ec2moto import (  # noqa: F401
    an_ami,
    cloud_config,
    ec2_compat,
    volumes_of,
)
from tests.support.moto import MotoServer
from tests.support.rightscripts import write_rightscript
from tests.support.sshd import start_sshd

pytestmark = pytest.mark.timeout(300)


@dataclass
class Cloud:
    """A provider under test, how to describe an instance for it, and what it could leave behind."""

    provider: Provider
    settings: CloudSettings
    leftovers: Callable[[str, str], list[str]]  # (node_id, server) -> resources still there

    def spec(self, server: str, public_key: str) -> LaunchSpec:
        return LaunchSpec(server=server, settings=self.settings, public_key=public_key, key_name="contract",
                          tags={SERVER_TAG: server, TEMPLATE_TAG: "c" * 64})


def local_cloud(request: pytest.FixtureRequest, tmp_path: Path) -> Cloud:
    image = request.getfixturevalue("local_base_image")  # missing docker/base image: skip, or fail under CI
    provider = providers.get("local")("local", {"provider": "local", "state_dir": str(tmp_path / "local-cloud")})

    def leftovers(node_id: str, server: str) -> list[str]:
        home = Path(provider.driver.state_root) / server
        found = [f"container {node_id}"] if provider.driver.ex_get_node(node_id) is not None else []
        return found + ([f"state dir {home}"] if home.exists() else [])

    return Cloud(provider, CloudSettings("local", image, "small", "root", (VolumeSpec("data", 1),)), leftovers)


def ec2_cloud(request: pytest.FixtureRequest, tmp_path: Path) -> Cloud:
    moto: MotoServer = request.getfixturevalue("moto_server")
    request.getfixturevalue("ec2_compat")
    provider = providers.get("ec2")("ec2", {"provider": "ec2", **cloud_config(moto)})

    def leftovers(node_id: str, server: str) -> list[str]:
        node = provider.find(node_id)
        found = [f"instance {node_id} ({node.state})"] if node is not None and str(node.state) != "terminated" else []
        return found + [f"volume {v['VolumeId']} ({v['State']})" for v in volumes_of(moto, node_id)]

    return Cloud(provider, CloudSettings("ec2", an_ami(moto), "t3.micro", "admin", (VolumeSpec("data", 1),)),
                 leftovers)


@pytest.fixture(params=["local", "ec2"])
def cloud(request: pytest.FixtureRequest, tmp_path: Path) -> Cloud:
    return {"local": local_cloud, "ec2": ec2_cloud}[request.param](request, tmp_path)


@pytest.fixture
def server_name() -> str:
    return f"contract-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def public_key(tmp_path: Path) -> str:
    from tests.providers.conftest import make_key_pair

    return make_key_pair(tmp_path).public


def listed(provider: Provider) -> dict[str, str]:
    return {i.node_id: i.server for i in provider.list_instances()}


def test_launch_list_destroy(cloud: Cloud, server_name: str, public_key: str) -> None:
    created: list[str] = []
    instance = cloud.provider.launch(cloud.spec(server_name, public_key), created.append, lambda message: None)
    try:
        assert instance.node_id and created == [instance.node_id]
        assert instance.server == server_name and instance.host and 0 < instance.port < 65536
        assert listed(cloud.provider).get(instance.node_id) == server_name
    finally:
        cloud.provider.destroy(instance.node_id, instance.extra)
    assert instance.node_id not in listed(cloud.provider)
    assert cloud.leftovers(instance.node_id, server_name) == []
    cloud.provider.destroy(instance.node_id, instance.extra)  # idempotent
    cloud.provider.destroy(instance.node_id)  # without the recorded extra too


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_launch_failing_after_create_leaves_nothing_behind(cloud: Cloud, server_name: str, public_key: str,
                                                          failure: type[BaseException]) -> None:
    """E.g. Ctrl-C, or the store refusing to record the new node id, right after the cloud made it."""
    created: list[str] = []

    def on_created(node_id: str) -> None:
        created.append(node_id)
        raise failure("after create")

    with pytest.raises(failure):
        cloud.provider.launch(cloud.spec(server_name, public_key), on_created)
    (node_id,) = created
    try:
        assert node_id not in listed(cloud.provider)
        assert server_name not in listed(cloud.provider).values()
        assert cloud.leftovers(node_id, server_name) == []
    finally:
        cloud.provider.destroy(node_id)


def test_a_failed_launch_never_destroys_an_instance_it_did_not_make(cloud: Cloud, server_name: str,
                                                                    public_key: str) -> None:
    """Another store's instance of the same name survives this launch's failure and clean-up: clean-up goes by
    node id and launch token (LAUNCH_TAG), never by server name."""
    theirs_spec = cloud.spec(server_name, public_key)
    theirs = cloud.provider.launch(theirs_spec, lambda node_id: None)
    try:
        mine = cloud.spec(server_name, public_key)
        assert mine.token != theirs_spec.token and mine.launch_tags()[LAUNCH_TAG] == mine.token

        def refuse(node_id: str) -> None:
            raise RuntimeError("the store refused the node id")

        with pytest.raises((RuntimeError, CloudError)):  # local: the name is taken; EC2: after create
            cloud.provider.launch(mine, refuse)
        assert listed(cloud.provider).get(theirs.node_id) == server_name
        assert cloud.provider.launched(theirs_spec.token) == [theirs.node_id]
        assert cloud.provider.launched(mine.token) == [] and cloud.provider.destroy_launched(mine.token) == []
        assert listed(cloud.provider).get(theirs.node_id) == server_name
        assert {i.node_id: i.launch_token for i in cloud.provider.list_instances()}[theirs.node_id] == theirs_spec.token
    finally:
        assert cloud.provider.destroy_launched(theirs_spec.token)  # by its token: what that launch made
    assert cloud.leftovers(theirs.node_id, server_name) == []
    assert cloud.provider.destroy(theirs.node_id) is False and cloud.provider.destroy_launched(theirs_spec.token) == []


# Existing hosts: no cloud at all.

@pytest.fixture
def existing_host(tmp_path: Path) -> Iterator[tuple[Controller, Path, str, Path]]:
    server = start_sshd("existing1")
    out = tmp_path / "out"
    out.mkdir()
    folder = tmp_path / "template"
    (folder / "scripts").mkdir(parents=True)
    for name in ("Boot step", "Decommission step"):
        write_rightscript(folder / "scripts", name, f'echo "{name}" >> "$OUT_DIR/$STACKSCRIPTS_SERVER.log"\n',
                          file=f"{name.split()[0].lower()}.sh", inputs={"OUT_DIR": None})
    template = folder / "template.yaml"
    template.write_text(f"Name: Existing host\nInputs:\n  OUT_DIR: text:{out}\nRightScripts:\n"
                        "  Boot:\n  - scripts/boot.sh\n  Decommission:\n  - scripts/decommission.sh\n")
    try:
        with Controller(tmp_path / "audit.db") as controller:
            controller.add_server("existing1", f"{server.user}@{server.host}", server.port, server.key_path)
            yield controller, template, "existing1", out
    finally:
        server.close()


def test_existing_host_terminate_decommissions_and_touches_no_cloud(
        existing_host: tuple[Controller, Path, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    controller, template, name, out = existing_host
    assert controller.boot(name, template).ok
    assert controller.store.get_server(name).cloud is None

    # Any cloud lookup now fails loudly: a clouds file readable by others is refused.
    trap = tmp_path / "clouds.yaml"
    trap.write_text("ec2:\n  key: x\n  secret: y\n")
    trap.chmod(0o644)
    monkeypatch.setenv("STACKSCRIPTS_CLOUDS", str(trap))
    with pytest.raises(BadInput):
        load_clouds()

    result = Launcher(controller).terminate(name)
    assert result is not None and result.ok and result.phase.value == "Decommission"
    assert [s.name for s in result.steps] == ["Decommission step"]
    assert (out / f"{name}.log").read_text().splitlines() == ["Boot step", "Decommission step"]
    record = controller.store.get_server(name)
    assert record.state == "terminated" and record.cloud is None and record.node_id is None
    assert [r.phase for r in controller.runs(name)] == ["Decommission", "Boot"]
