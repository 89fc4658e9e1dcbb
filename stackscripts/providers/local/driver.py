"""LocalNodeDriver: a libcloud compute driver whose nodes are Docker system containers on this machine."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from libcloud.compute.base import Node, NodeDriver, NodeImage, NodeLocation, NodeSize
from libcloud.compute.types import NodeState

from ...errors import CloudError
from . import devices
from .devices import Drive
from .engine import MANAGED_LABEL, SERVER_LABEL, ContainerInfo, ContainerSpec, Engine
from .image import BASE_TAG, ProgressCallback, ensure_base_image, state_dir

STATE_LABEL = "stackscripts.state-dir"
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
KEY_PATTERN = re.compile(r"^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\x00-\x1f]*)?$")
# id -> (RAM MiB, CPUs); CPUs are capped at the machine's.
SIZES: dict[str, tuple[int, int]] = {"small": (1024, 1), "medium": (2048, 2), "large": (4096, 2), "xlarge": (8192, 4)}
DEFAULT_SIZE = "medium"
STATES = {
    "running": NodeState.RUNNING, "created": NodeState.PENDING, "restarting": NodeState.REBOOTING,
    "paused": NodeState.PAUSED, "exited": NodeState.STOPPED, "dead": NodeState.ERROR,
    "removing": NodeState.TERMINATED,
}  # fmt: skip


class LocalNodeDriver(NodeDriver):
    """Instances are system containers: sshd at 127.0.0.1:<random port>, ephemeral drives as loop devices."""

    type = "local"
    name = "stackscripts local cloud"
    features = {"create_node": ["ssh_key"]}

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        *,
        ex_state_dir: str | os.PathLike[str] | None = None,
        ex_docker_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(key or "local", secret, **kwargs)
        self.engine = Engine(ex_docker_url)
        self.state_root = Path(ex_state_dir) if ex_state_dir is not None else state_dir()

    # catalogue

    def list_sizes(self, location: NodeLocation | None = None) -> list[NodeSize]:
        cpus = os.cpu_count() or 1
        return [NodeSize(i, i, ram, 0, None, 0.0, self, extra={"cpus": min(c, cpus)}) for i, (ram, c) in SIZES.items()]

    def list_images(self, location: NodeLocation | None = None, ex_prefix: str = "stackscripts/") -> list[NodeImage]:
        """Local images whose tag starts with ex_prefix (the base image and any built from it)."""
        return [
            NodeImage(id=tag, name=tag, driver=self, extra={"image_id": image_id, "size": size})
            for tag, image_id, size in self.engine.list_images(ex_prefix)
        ]

    def list_locations(self) -> list[NodeLocation]:
        return [NodeLocation(id="localhost", name="localhost", country="", driver=self)]

    def ex_ensure_base_image(self, on_progress: ProgressCallback | None = None) -> NodeImage:
        """Build (once) and return the default image."""
        tag = ensure_base_image(on_progress, engine=self.engine)
        return NodeImage(id=tag, name=tag, driver=self)

    # lifecycle

    def create_node(  # type: ignore[override]
        self,
        name: str,
        size: NodeSize | str | None = None,
        image: NodeImage | str | None = None,
        location: NodeLocation | None = None,
        *,
        ex_authorized_key: str,
        ex_volumes: Sequence[Mapping[str, Any] | Any] | None = None,
        ex_labels: Mapping[str, str] | None = None,
        ex_on_progress: ProgressCallback | None = None,
    ) -> Node:
        """Start a system container named `name`; root may log in with ex_authorized_key only."""
        _check_name(name)
        keys = _check_keys(ex_authorized_key)
        ram, cpus = self._size(size)
        tag = self._image(image, ex_on_progress)
        volumes = _volume_specs(ex_volumes)
        home = self.state_root / name
        labels = {**(ex_labels or {}), MANAGED_LABEL: "1", SERVER_LABEL: name, STATE_LABEL: str(home)}
        with self._lock():  # the name is claimed once the container exists
            if self.engine.inspect(name) is not None:
                raise CloudError(
                    f"local cloud: an instance named {name!r} already exists; destroy it or pick another name."
                )
            self._release(home)  # leftovers of an earlier crashed create
            home.mkdir(mode=0o700, parents=True)
            try:
                drives = [devices.create(home, v["name"], v["size_gb"], v["device"]) for v in volumes]
                container_id = self.engine.create(
                    ContainerSpec(
                        name=name,
                        image=tag,
                        labels={k: str(v) for k, v in labels.items()},
                        devices=[f"{d.loop_device}:{d.device}:rwm" for d in drives] + _extra_devices(),
                        mem_limit=ram * 1024 * 1024,
                        nano_cpus=cpus * 10**9,
                        anonymous_volumes=["/var/lib/docker"],
                        files={"/root/.ssh/authorized_keys": (keys.encode(), 0o600)},
                    )
                )
            except BaseException:
                self._release(home)
                raise
        try:
            info = self.engine.start(container_id)
        except BaseException:
            self.destroy_node(container_id)
            raise
        return self._node(info)

    def list_nodes(self, ex_labels: Mapping[str, str] | None = None) -> list[Node]:
        """Managed instances (optionally only those carrying all ex_labels), ports re-read from the engine."""
        wanted = dict(ex_labels or {})
        table = devices.loop_table()
        return [
            self._node(info, table)
            for info in self.engine.list_managed()
            if all(info.labels.get(k) == str(v) for k, v in wanted.items())
        ]

    def ex_get_node(self, name_or_id: str) -> Node | None:
        info = self.engine.inspect(name_or_id)
        return self._node(info) if info is not None and info.labels.get(MANAGED_LABEL) == "1" else None

    def reboot_node(self, node: Node | str) -> bool:
        """Restart the container; the published SSH port may change (read it again with ex_get_node)."""
        info = self.engine.restart(_ref(node))
        if isinstance(node, Node):
            node.extra["ssh_port"] = info.ssh_port
        return True

    def stop_node(self, node: Node | str) -> bool:
        self.engine.stop(_ref(node))
        return True

    def start_node(self, node: Node | str) -> bool:
        self.engine.start(_ref(node))
        return True

    def destroy_node(self, node: Node | str) -> bool:
        """Remove the container, its loop devices and backing files. Idempotent; accepts a Node, name or id."""
        ref = _ref(node)
        with self._lock():
            info = self.engine.inspect(ref)
            name = info.name if info else (node.name if isinstance(node, Node) else ref)
            home = Path(info.labels[STATE_LABEL]) if info and STATE_LABEL in info.labels else self.state_root / name
            if info is not None:
                self.engine.remove(info.id)
            if NAME_PATTERN.match(name):
                self._release(home)
        return True

    def ex_destroy_all(self, ex_labels: Mapping[str, str] | None = None) -> int:
        """Destroy every managed instance carrying all ex_labels; returns how many."""
        nodes = self.list_nodes(ex_labels)
        for node in nodes:
            self.destroy_node(node)
        return len(nodes)

    # helpers

    def _size(self, size: NodeSize | str | None) -> tuple[int, int]:
        key = size.id if isinstance(size, NodeSize) else (size or DEFAULT_SIZE)
        if key not in SIZES:
            raise CloudError(f"local cloud: unknown size {key!r}; known sizes: {', '.join(SIZES)}.")
        ram, cpus = SIZES[key]
        return ram, min(cpus, os.cpu_count() or 1)

    def _image(self, image: NodeImage | str | None, on_progress: ProgressCallback | None) -> str:
        tag = image.id if isinstance(image, NodeImage) else (image or BASE_TAG)
        if tag == BASE_TAG:
            return ensure_base_image(on_progress, engine=self.engine)
        if self.engine.image_labels(tag) is None:
            raise CloudError(f"local cloud: no image {tag!r} on this engine; the default image is {BASE_TAG}.")
        return tag

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise creates and destroys (across processes) so a name's files have one owner at a time."""
        self.state_root.mkdir(parents=True, exist_ok=True)
        with open(self.state_root / ".instances.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _release(self, home: Path, timeout: float = 10.0) -> None:
        """Detach every loop device backed by a file under home, then delete home."""
        deadline = time.monotonic() + timeout
        while attached := devices.attached_under(home):
            for loop_device, _backing in attached:
                devices.detach(loop_device)
            if time.monotonic() > deadline:
                busy = ", ".join(d for d, _ in attached)
                raise CloudError(f"local cloud: loop devices {busy} stay attached to files under {home}.")
            time.sleep(0.1)
        shutil.rmtree(home, ignore_errors=True)

    def _node(self, info: ContainerInfo, table: list[tuple[str, str]] | None = None) -> Node:
        home = Path(info.labels.get(STATE_LABEL) or self.state_root / info.name)
        in_container = dict(info.devices)
        drives = []
        attached = sorted(devices.attached_under(home, table), key=lambda item: in_container.get(item[0], ""))
        for loop_device, backing in attached:
            path = Path(backing)
            size = path.stat().st_size // 1024**3 if path.exists() else 0
            drives.append(Drive(path.stem, size, in_container.get(loop_device, ""), backing, loop_device).as_dict())
        return Node(
            id=info.id,
            name=info.name,
            state=STATES.get(info.status, NodeState.UNKNOWN),
            public_ips=["127.0.0.1"],
            private_ips=[info.ip] if info.ip else [],
            driver=self,
            image=NodeImage(id=info.image, name=info.image, driver=self),
            extra={
                "ssh_port": info.ssh_port,
                "ssh_user": "root",
                "container_id": info.id,
                "status": info.status,
                "labels": info.labels,
                "state_dir": str(home),
                "volumes": drives,
                "loop_devices": [d["loop_device"] for d in drives],
                "created": info.created,
            },
        )


def _extra_devices() -> list[str]:
    """Host devices every instance gets: btrfs-control lets `btrfs device scan` work inside."""
    return [f"{d}:{d}:rwm" for d in ("/dev/btrfs-control",) if os.path.exists(d)]


def _ref(node: Node | str) -> str:
    return str(node.extra.get("container_id") or node.id) if isinstance(node, Node) else node


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name or ""):
        raise CloudError(
            f"local cloud: {name!r} is not a valid instance name: use 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )


def _check_keys(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines or not all(KEY_PATTERN.match(line) for line in lines):
        raise CloudError(
            "local cloud: ex_authorized_key must be one or more OpenSSH public key lines ('ssh-ed25519 AAAA...')."
        )
    return "\n".join(lines) + "\n"


def _volume_specs(volumes: Sequence[Mapping[str, Any] | Any] | None) -> list[dict[str, Any]]:
    """Normalise dicts or VolumeSpec-like objects to {name, size_gb, device}, assigning /dev/xvdb... in order."""
    specs = []
    for index, volume in enumerate(volumes or ()):
        get = volume.get if isinstance(volume, Mapping) else lambda k, v=volume: getattr(v, k, None)
        name = str(get("name") or f"ephemeral{index}")
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", name):
            raise CloudError(f"local cloud: volume name {name!r} may hold only letters, digits, '.', '_' and '-'.")
        specs.append({"name": name, "size_gb": int(get("size_gb") or 0), "device": get("device")})
    free = iter(devices.device_names(len(specs), {str(s["device"]) for s in specs if s["device"]}))
    for spec in specs:
        spec["device"] = spec["device"] or next(free)
    names = [s["name"] for s in specs]
    devs = [s["device"] for s in specs]
    if len(set(names)) != len(names) or len(set(devs)) != len(devs):
        raise CloudError(f"local cloud: volume names and devices must be unique, got {names} on {devs}.")
    return specs
