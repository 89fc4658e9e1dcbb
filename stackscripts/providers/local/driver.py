"""LocalNodeDriver: a libcloud compute driver whose nodes are Docker system containers on this machine."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from libcloud.compute.base import Node, NodeDriver, NodeImage, NodeLocation, NodeSize
from libcloud.compute.types import NodeState

from ...errors import CloudError
from . import devices, drives, login, mirror
from .drives import DriveSpec
from .engine import MANAGED_LABEL, SERVER_LABEL, ContainerInfo, ContainerSpec, Engine
from .image import BASE_TAG, SUITE, ProgressCallback, ensure_base_image, state_dir

STATE_LABEL = "stackscripts.state-dir"
USER_LABEL = "stackscripts.ssh-user"
LAUNCH_LABEL = "stackscripts.launch"  # the launch token (providers.base.LAUNCH_TAG) of the create that made it
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
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
        self.state_root = (Path(ex_state_dir) if ex_state_dir is not None else state_dir()).absolute()

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
        ex_ssh_user: str = login.ROOT,
    ) -> Node:
        """Start a system container named `name`; ex_ssh_user (root unless told) logs in with ex_authorized_key only.

        ex_volumes: {name, size_gb, device, ephemeral} (or VolumeSpec); `ephemeral: False` keeps the drive's file
        when the instance is destroyed and gives it to the next instance of this name (drives.py)."""
        _check_name(name)
        keys = login.check_keys(ex_authorized_key)
        user = login.check_user(ex_ssh_user)
        ram, cpus = self._size(size)
        home = self.state_root / name
        specs = drives.plan(ex_volumes, home)
        files = {"/root/.ssh/authorized_keys": (keys.encode(), 0o600)} if user == login.ROOT else {}
        tag = self._image(image, ex_on_progress)
        if tag == BASE_TAG:  # this machine's mirror now, not the one the image was built from
            files["/etc/apt/sources.list"] = (mirror.choose(SUITE).sources_list(SUITE).encode(), 0o644)
        labels = {**(ex_labels or {}), MANAGED_LABEL: "1", SERVER_LABEL: name, STATE_LABEL: str(home),
                  drives.VOLUMES_LABEL: drives.encode(specs), USER_LABEL: user}  # fmt: skip
        with self._lock():  # the name is claimed once the container exists
            if self.engine.inspect(name) is not None:
                raise CloudError(
                    f"local cloud: an instance named {name!r} already exists; destroy it or pick another name."
                )
            drives.release(name, home)  # leftovers of an earlier crashed create
            drives.make_home(home, labels.get(LAUNCH_LABEL))  # found by its token even if killed before create
            try:
                container_id = self.engine.create(
                    ContainerSpec(
                        name=name,
                        image=tag,
                        labels={k: str(v) for k, v in labels.items()},
                        devices=drives.attach_all(name, specs) + _extra_devices(),
                        mem_limit=ram * 1024 * 1024,
                        nano_cpus=cpus * 10**9,
                        anonymous_volumes=["/var/lib/docker"],
                        files=files,
                    )
                )
            except BaseException:
                with contextlib.suppress(CloudError):  # cut short (Ctrl-C), the engine may have made it anyway
                    made = self.engine.inspect(name)
                    if made is not None and labels.get(LAUNCH_LABEL) and made.labels.get(LAUNCH_LABEL) == labels[LAUNCH_LABEL]:
                        self.engine.remove(made.id)  # ours by its token (by name alone it could be anyone's)
                drives.release(name, home)
                raise
        try:
            info = self.engine.start(container_id)
            if user != login.ROOT:
                self._make_user(info, user, keys)
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
        info = self.engine.restart(self._restore(node))
        if isinstance(node, Node):
            node.extra["ssh_port"] = info.ssh_port
        return True

    def stop_node(self, node: Node | str) -> bool:
        self.engine.stop(_ref(node))
        return True

    def start_node(self, node: Node | str) -> bool:
        """Start a stopped instance; after a host reboot its drives are attached again first (drives.restore)."""
        self.engine.start(self._restore(node))
        return True

    def destroy_node(self, node: Node | str) -> bool:
        """Remove the container, its loop devices and backing files (`ephemeral: False` files stay). Idempotent."""
        ref = _ref(node)
        with self._lock():
            info = self.engine.inspect(ref)
            name = info.name if info else (node.name if isinstance(node, Node) else ref)
            home = Path(info.labels[STATE_LABEL]) if info and STATE_LABEL in info.labels else self.state_root / name
            if info is not None:
                self.engine.remove(info.id)
            if NAME_PATTERN.match(name):
                drives.release(name, home)
        return True

    def ex_destroy_launched(self, token: str) -> list[str]:
        """Destroy what the create whose ex_labels carried LAUNCH_LABEL=token made: its container, or the drives
        and folder of one killed before its container existed. What was destroyed ([] when nothing was)."""
        destroyed = []
        for node in self.list_nodes({LAUNCH_LABEL: token}) if token else []:
            self.destroy_node(node)
            destroyed.append(str(node.id))
        with self._lock():
            for home in drives.launched_homes(self.state_root, token):
                info = self.engine.inspect(home.name)
                if info is not None and info.labels.get(LAUNCH_LABEL) != token:
                    continue  # another launch's instance (made before launch tokens existed)
                if info is not None:
                    self.engine.remove(info.id)  # made by the engine while it was being listed
                drives.release(home.name, home)
                destroyed.append(f"the unfinished create of {home.name} ({home})")
        return destroyed

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

    def _restore(self, node: Node | str) -> str:
        """Attach the instance's drives again where a host reboot detached them; returns the container id."""
        with self._lock():
            info = self.engine.inspect(_ref(node))
            if info is None or info.labels.get(MANAGED_LABEL) != "1":
                raise CloudError(f"local cloud: no instance {_ref(node)!r}.")
            drives.restore(info.name, drives.decode(info.labels) or [])
            return info.id

    def _make_user(self, info: ContainerInfo, user: str, keys: str) -> None:
        code, output = self.engine.exec(info.id, ["sh", "-c", login.CREATE_USER],
                                        {"STACKSCRIPTS_USER": user, "STACKSCRIPTS_KEYS": keys})  # fmt: skip
        if code != 0:
            raise CloudError(f"local cloud: creating the SSH user {user!r} in {info.name} failed (exit {code}): "
                             f"{output.strip()[-500:]}")  # fmt: skip

    def _node(self, info: ContainerInfo, table: list[tuple[str, str]] | None = None) -> Node:
        home = Path(info.labels.get(STATE_LABEL) or self.state_root / info.name)
        table = devices.loop_table() if table is None else table
        specs = drives.decode(info.labels)
        if specs is None:  # made before the volumes label: what is attached under its folder
            in_container = dict(info.devices)
            specs = sorted((DriveSpec(Path(back).stem, _size_gb(back), in_container.get(loop, ""), True, back)
                            for loop, back in devices.attached_under(home, table)), key=lambda d: d.device)  # fmt: skip
        volumes = drives.describe(specs, table)
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
                "ssh_user": info.labels.get(USER_LABEL, login.ROOT),
                "container_id": info.id,
                "status": info.status,
                "labels": info.labels,
                "state_dir": str(home),
                "volumes": volumes,
                "loop_devices": [v["loop_device"] for v in volumes if v["loop_device"]],
                "created": info.created,
            },
        )


def _size_gb(path: str) -> int:
    return Path(path).stat().st_size // 1024**3 if Path(path).exists() else 0


def _extra_devices() -> list[str]:
    """Host devices every instance gets: btrfs-control lets `btrfs device scan` work inside."""
    return [f"{d}:{d}:rwm" for d in ("/dev/btrfs-control",) if os.path.exists(d)]


def _ref(node: Node | str) -> str:
    return str(node.extra.get("container_id") or node.id) if isinstance(node, Node) else node


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name or ""):
        raise CloudError(f"local cloud: {name!r} is not a valid instance name: use 1-63 letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit.")
