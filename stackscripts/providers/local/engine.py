"""The one module that speaks to the Docker engine (through the docker SDK)."""

from __future__ import annotations

import io
import os
import re
import tarfile
import time
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import Mount

from ...errors import CloudError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
MANAGED_LABEL = "stackscripts.managed"
SERVER_LABEL = "stackscripts.server"
# Capability numbers 0..40 (linux/capability.h). Instances get every one this process holds: some hosts
# withhold SYS_RESOURCE (and so refuse --privileged), and older engines do not know the newest (retried without).
CAPABILITIES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
    "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON",
    "BPF", "CHECKPOINT_RESTORE",
]


def system_capabilities() -> list[str]:
    """Every capability this process may grant: its bounding set."""
    try:
        with open("/proc/self/status") as status:
            line = next(row for row in status if row.startswith("CapBnd:"))
        bounding = int(line.split()[1], 16)
    except (OSError, StopIteration, ValueError):
        bounding = (1 << len(CAPABILITIES)) - 1
    return [n for i, n in enumerate(CAPABILITIES) if bounding >> i & 1]


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one system container."""

    name: str
    image: str
    labels: dict[str, str]
    devices: list[str]  # "host:container:rwm"
    mem_limit: int | None = None
    nano_cpus: int | None = None
    anonymous_volumes: list[str] = field(default_factory=list)  # container paths
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # path -> (content, mode)


@dataclass(frozen=True)
class ContainerInfo:
    """What the driver needs to know about a running or stopped container."""

    id: str
    name: str
    status: str
    image: str
    labels: dict[str, str]
    ssh_port: int | None
    devices: list[tuple[str, str]]  # (path on host, path in container)
    created: str
    ip: str | None


def _docker_url() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


class Engine:
    """A thin, typed wrapper around a docker SDK client; every engine failure becomes a CloudError."""

    def __init__(self, base_url: str | None = None, timeout: int = 120) -> None:
        self.base_url = base_url or _docker_url()
        self.capabilities = system_capabilities()
        try:
            self.client = docker.DockerClient(base_url=self.base_url, timeout=timeout)
            self.client.ping()
        except docker.errors.DockerException as exc:
            raise CloudError(
                f"local cloud: Docker engine not reachable at {self.base_url.removeprefix('unix://')} ({exc}).",
                hint="Start dockerd (see .ci/dockerd.sh).",
            ) from exc

    # images

    def image_labels(self, tag: str) -> dict[str, str] | None:
        """The labels of image `tag`, or None when there is no such image."""
        try:
            image = self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise CloudError(f"local cloud: cannot inspect image {tag}: {exc}") from exc
        return dict((image.attrs.get("Config") or {}).get("Labels") or {})

    def import_tarball(self, path: str, tag: str, changes: list[str]) -> str:
        """Import a root filesystem tarball as image `tag` (like `docker import`); returns its id."""
        repository, _, version = tag.rpartition(":")
        try:
            old = str(self.client.images.get(tag).id)
        except docker.errors.DockerException:
            old = None
        try:
            self.client.api.import_image(src=path, repository=repository, tag=version, changes=changes)
            new = str(self.client.images.get(tag).id)
        except docker.errors.DockerException as exc:
            raise CloudError(f"local cloud: importing {path} as image {tag} failed: {exc}") from exc
        if old and old != new:
            try:
                self.client.images.remove(old)  # the superseded build, unless containers still use it
            except docker.errors.DockerException:
                pass
        return new

    def list_images(self, prefix: str) -> list[tuple[str, str, int]]:
        """(tag, id, size) for every local image whose tag starts with prefix."""
        found = []
        for image in self.client.images.list():
            for tag in image.tags:
                if tag.startswith(prefix):
                    found.append((tag, str(image.id), int(image.attrs.get("Size", 0))))
        return found

    # containers

    def create(self, spec: ContainerSpec) -> str:
        """Create (not start) the container and copy spec.files into it; returns its id."""
        container = self._create(spec)
        try:
            if spec.files:
                container.put_archive("/", _tar(spec.files))
        except docker.errors.DockerException as exc:
            self.remove(str(container.id))
            raise CloudError(f"local cloud: copying files into container {spec.name} failed: {exc}") from exc
        return str(container.id)

    def _create(self, spec: ContainerSpec) -> Container:
        """Create the container; capabilities this engine does not know are dropped and creation retried."""
        while True:
            try:
                return self.client.containers.create(
                    spec.image,
                    name=spec.name,
                    hostname=spec.name,
                    labels=spec.labels,
                    detach=True,
                    init=True,
                    cap_add=self.capabilities,
                    security_opt=["seccomp=unconfined", "apparmor=unconfined"],
                    cgroupns="host",
                    devices=spec.devices,
                    volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
                    mounts=[Mount(path, None, type="volume") for path in spec.anonymous_volumes],
                    ports={"22/tcp": ("127.0.0.1", None)},
                    mem_limit=spec.mem_limit,
                    nano_cpus=spec.nano_cpus,
                    tmpfs={"/run": "rw,nosuid,nodev,exec,mode=755"},
                )
            except docker.errors.APIError as exc:
                unknown = re.search(r'unknown capability: "?(?:CAP_)?([A-Z_]+)', str(exc))
                if unknown and unknown.group(1) in self.capabilities:
                    self.capabilities = [c for c in self.capabilities if c != unknown.group(1)]
                    continue
                raise CloudError(f"local cloud: creating container {spec.name} failed: {exc}") from exc
            except docker.errors.DockerException as exc:
                raise CloudError(f"local cloud: creating container {spec.name} failed: {exc}") from exc

    def wait_port(self, name_or_id: str, timeout: float = 10.0) -> ContainerInfo:
        """Inspect until the engine reports the published SSH port (it is assigned at start)."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.inspect(name_or_id)
            if info is None:
                raise CloudError(f"local cloud: container {name_or_id} vanished right after it started.")
            if info.ssh_port is not None or info.status not in ("running", "created", "restarting"):
                if info.ssh_port is None:
                    raise CloudError(
                        f"local cloud: container {info.name} stopped right after it started "
                        f"(status {info.status}); its log:\n{self.logs(info.id)}"
                    )
                return info
            if time.monotonic() > deadline:
                raise CloudError(f"local cloud: container {info.name} has no published SSH port after {timeout}s.")
            time.sleep(0.1)

    def inspect(self, name_or_id: str) -> ContainerInfo | None:
        try:
            return _info(self.client.containers.get(name_or_id))
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise CloudError(f"local cloud: cannot inspect container {name_or_id}: {exc}") from exc

    def list_managed(self) -> list[ContainerInfo]:
        """Managed containers; one removed while listing (another process destroying it) is skipped."""
        try:
            summaries = self.client.api.containers(all=True, filters={"label": f"{MANAGED_LABEL}=1"})
        except docker.errors.APIError as exc:
            raise CloudError(f"local cloud: listing containers failed: {exc}") from exc
        found = []
        for summary in summaries:
            try:
                found.append(_info(self.client.containers.get(summary["Id"])))
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as exc:
                raise CloudError(f"local cloud: inspecting container {summary['Id'][:12]} failed: {exc}") from exc
        return found

    def restart(self, name_or_id: str, timeout: int = 10) -> ContainerInfo:
        try:
            self.client.containers.get(name_or_id).restart(timeout=timeout)
        except docker.errors.DockerException as exc:
            raise CloudError(f"local cloud: restarting container {name_or_id} failed: {exc}") from exc
        return self.wait_port(name_or_id)

    def start(self, name_or_id: str) -> ContainerInfo:
        try:
            self.client.containers.get(name_or_id).start()
        except docker.errors.DockerException as exc:
            raise CloudError(f"local cloud: starting container {name_or_id} failed: {exc}") from exc
        return self.wait_port(name_or_id)

    def stop(self, name_or_id: str, timeout: int = 10) -> None:
        try:
            self.client.containers.get(name_or_id).stop(timeout=timeout)
        except docker.errors.DockerException as exc:
            raise CloudError(f"local cloud: stopping container {name_or_id} failed: {exc}") from exc

    def remove(self, name_or_id: str) -> bool:
        """Force-remove the container and its anonymous volumes; False if it did not exist."""
        try:
            self.client.containers.get(name_or_id).remove(force=True, v=True)
            return True
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            if exc.status_code == 409 and "already in progress" in str(exc):
                return True
            raise CloudError(f"local cloud: removing container {name_or_id} failed: {exc}") from exc

    def exec(self, name_or_id: str, argv: list[str], environment: dict[str, str] | None = None) -> tuple[int, str]:
        """Run a command as root in a running container; (exit code, combined output)."""
        try:
            code, output = self.client.containers.get(name_or_id).exec_run(argv, environment=environment, user="root")
        except docker.errors.DockerException as exc:
            raise CloudError(f"local cloud: running {argv[0]} in container {name_or_id} failed: {exc}") from exc
        return int(code), bytes(output or b"").decode(errors="replace")

    def logs(self, name_or_id: str, tail: int = 40) -> str:
        try:
            return self.client.containers.get(name_or_id).logs(tail=tail).decode(errors="replace")
        except docker.errors.DockerException:
            return "(no log)"


def _info(container: Container) -> ContainerInfo:
    attrs: dict[str, Any] = container.attrs
    bindings = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
    port = None
    for binding in bindings.get("22/tcp") or []:
        if binding.get("HostPort"):
            port = int(binding["HostPort"])
            break
    host_config = attrs.get("HostConfig") or {}
    devices = [(d.get("PathOnHost", ""), d.get("PathInContainer", "")) for d in host_config.get("Devices") or []]
    config = attrs.get("Config") or {}
    network = attrs.get("NetworkSettings") or {}
    ip = network.get("IPAddress") or next(
        (n.get("IPAddress") for n in (network.get("Networks") or {}).values() if n.get("IPAddress")), None
    )
    return ContainerInfo(
        id=str(container.id),
        name=str(attrs.get("Name", "")).lstrip("/"),
        status=str((attrs.get("State") or {}).get("Status", "unknown")),
        image=str(config.get("Image", "")),
        labels=dict(config.get("Labels") or {}),
        ssh_port=port,
        devices=devices,
        created=str(attrs.get("Created", "")),
        ip=ip or None,
    )


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar archive of files (absolute paths); parent directories owned by root, 0700 under /root, else 0755."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        made: set[str] = set()
        for path, (content, mode) in files.items():
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts)):
                directory = "/".join(parts[:depth])
                if directory not in made:
                    entry = tarfile.TarInfo(directory)
                    entry.type, entry.mode = tarfile.DIRTYPE, 0o700 if directory.startswith("root") else 0o755
                    entry.mtime = int(time.time())
                    archive.addfile(entry)
                    made.add(directory)
            entry = tarfile.TarInfo("/".join(parts))
            entry.size, entry.mode, entry.mtime = len(content), mode, int(time.time())
            archive.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()

