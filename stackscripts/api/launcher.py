"""Launch servers from templates on a cloud, boot them, terminate them; never orphan an instance."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

from ..clouds import default_cloud, provider_for
from ..errors import BadInput, CloudError, ConnectionFailed, NotFound, RunFailed
from ..executor import Cancel
from ..inputs.resolve import Layer
from ..model import CloudSettings, Phase, RunResult, ServerState, Template
from ..plan import build_plan, resolve_template
from ..providers.base import DEPLOYMENT_TAG, SERVER_TAG, TEMPLATE_TAG, LaunchSpec, Provider, new_launch_token
from ..store.base import ServerRecord
from ..store.liveness import Controller as Process
from ..templates import load_template
from ..transport.keys import launch_key
from .controller import Controller, check_budget
from .inputs import Inputs, input_layers
from .interrupts import InterruptGuard
from .pins import pin_template

Progress = Callable[[str], None]
SSH_WAIT = 180.0


class Discrepancy(TypedDict):
    """One finding of `Launcher.reconcile` (plain data: the CLI prints it and `--json` carries it as is)."""

    cloud: str
    kind: Literal["orphan", "vanished", "unreachable"]
    detail: str
    server: NotRequired[str]
    node_id: NotRequired[str]


def pick_settings(template: Template, cloud: str, provider: Provider, image: str | None) -> CloudSettings:
    """The template's MultiCloud image for this cloud (the first image unless --image names another)."""
    images = template.images
    if image:
        images = tuple(i for i in images if i.name == image)
        if not images:
            names = ", ".join(i.name for i in template.images) or "none"
            raise BadInput(f"template has no MultiCloud image {image!r}", file=str(template.path), hint=f"Images: {names}.")
    kinds = {cloud, provider.config.get("driver", ""), provider.config.get("provider", "")}
    region = provider.config.get("region")
    for candidate in images:
        for settings in candidate.settings:
            if settings.cloud in kinds and (settings.region is None or region is None or settings.region == region):
                return settings
    raise BadInput(f"template {template.name!r} has no MultiCloud image settings for cloud {cloud!r}",
                   file=str(template.path), hint=f"Add '- Cloud: {cloud}' with Image, Instance Type and SSH User under Settings.")


def short_id(node_id: str) -> str:
    """A Docker container id as Docker shows it (12 digits); other clouds' ids as they are."""
    return node_id[:12] if len(node_id) == 64 and all(c in "0123456789abcdef" for c in node_id) else node_id


def wait_for_ssh(host: str, port: int, timeout: float) -> None:
    """Until the port answers with an SSH banner; bounded."""
    import socket

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=3) as sock:
                sock.settimeout(3)
                if sock.recv(4).startswith(b"SSH-"):
                    return
                last = "not an SSH server"
        except OSError as exc:
            last = exc.strerror or str(exc)
        time.sleep(0.25)
    raise ConnectionFailed(f"SSH never came up at {host}:{port} within {timeout:.0f}s ({last})",
                           hint="The instance was destroyed; check the image runs sshd on boot.")


class Launcher:
    """Cloud-side operations over a Controller's store."""

    def __init__(self, controller: Controller, progress: Progress | None = None) -> None:
        self.c = controller
        self.progress = progress or (lambda message: None)

    def launch(self, template: str | Path, name: str, cloud: str | None = None, image: str | None = None,
               inputs: Inputs = (), layers: Sequence[Layer] = (), deployment: str | None = None,
               destroy_on_failure: bool = False, key_name: str | None = None, cancel: Cancel | None = None,
               labels: Mapping[str, Any] | None = None) -> RunResult:
        """Create the instance, record it before and after each cloud call, wait for SSH, boot.

        The launch token (recorded in the server's `extra` and set on the instance before the create call) is
        what any clean-up destroys by: never the server name, which another store may use for its own instance.
        Once a first Ctrl-C (or SIGTERM) has started the clean-up, later ones cannot cut it short. `labels` are kept
        in the server's `extra` (a deployment's file and the servers this one references)."""
        labels = dict(labels or {})
        cloud = cloud or default_cloud()  # the project file's cloud, else local
        loaded = load_template(template)
        pin_template(self.c.catalog, loaded)  # library references at the lock file's digests
        resolved = resolve_template(loaded, self.c.catalog)
        extra = [*layers, *input_layers(inputs)]
        self.c.materialize(build_plan(resolved, Phase.BOOT, extra))  # inputs and credentials before any cloud call
        provider = provider_for(cloud)
        provider.check_name(name)  # before anything is recorded or made
        settings = pick_settings(loaded, cloud, provider, image)
        try:
            existing = self.c.store.get_server(name)
        except NotFound:
            existing = None
        if existing is not None and existing.state != ServerState.TERMINATED.value:
            raise BadInput(f"server {name} already exists ({existing.state})", hint="Terminate it first or pick another name.")
        key_name = key_name or deployment or name
        key, public_key = launch_key(key_name)  # a 0600 file, or cred:stackscripts-key-NAME in the key backend
        token = new_launch_token()
        me = Process.current()
        self.c.store.put_server(ServerRecord(name=name, state=ServerState.PENDING.value, cloud=cloud,
                                             template=str(Path(template).resolve()), template_sha256=loaded.sha256,
                                             key_path=key, user=settings.ssh_user, deployment=deployment,
                                             extra={**labels, "launching": True, "launch_token": token,
                                                    "launched_by": {"host": me.host, "pid": me.pid, "start": me.start,
                                                                    "boot": me.boot}}))
        tags = {SERVER_TAG: name, TEMPLATE_TAG: loaded.sha256, **({DEPLOYMENT_TAG: deployment} if deployment else {})}
        spec = LaunchSpec(server=name, settings=settings, public_key=public_key, key_name=key_name, tags=tags,
                          token=token)
        launch_started = time.time()

        def created(node_id: str) -> None:  # recorded before the cloud call returns: never an orphan
            self.c.store.update_server(name, node_id=node_id)

        with InterruptGuard() as guard:
            try:
                self.progress(f"{name}: launching on {cloud} ({settings.image})")
                instance = provider.launch(spec, created, self.progress)
                recorded = {**labels, **instance.extra, "private_ip": instance.private_ip, "launch_token": token}
                self.c.store.update_server(name, host=instance.host, port=instance.port, user=instance.user,
                                           node_id=instance.node_id, extra=recorded)
                self.progress(f"{name}: waiting for SSH at {instance.host}:{instance.port}")
                wait_for_ssh(instance.host, instance.port, float(provider.config.get("ssh_wait", SSH_WAIT)))
                self.c.store.update_server(name, extra={**recorded, "launch_started": launch_started,
                                                        "ssh_ready": time.time()})
            except BaseException:
                with guard.shield():
                    self._destroy_quietly(provider, name)
                raise
            try:
                return self.c.boot(name, template, inputs, layers=layers, cancel=cancel)
            except RunFailed:
                if destroy_on_failure:
                    with guard.shield():
                        self._destroy_quietly(provider, name)
                raise
            except BaseException:
                with guard.shield():
                    self._destroy_quietly(provider, name)
                raise

    def _destroy(self, provider: Provider, record: ServerRecord) -> list[str]:
        """Destroy what the server's launch made: the instance under the recorded node id, and whatever carries
        its launch token (an instance whose id was never recorded, a create killed half-way). What was destroyed."""
        destroyed = []
        if record.node_id and provider.destroy(record.node_id, record.extra):
            destroyed.append(short_id(record.node_id))
        token = record.extra.get("launch_token")
        if token:
            destroyed += [short_id(item) for item in provider.destroy_launched(str(token))]
        return destroyed

    def _terminated(self, record: ServerRecord, destroyed: list[str]) -> None:
        extra = {k: v for k, v in record.extra.items() if k not in ("launching", "launched_by", "destroy_error")}
        self.c.store.update_server(record.name, state=ServerState.TERMINATED.value,
                                   extra={**extra, "destroyed": destroyed})

    def _destroy_quietly(self, provider: Provider, name: str) -> None:
        """Destroy what this launch made; keep the original failure if that fails (the record says what is left)."""
        record = self.c.store.get_server(name)
        try:
            destroyed = self._destroy(provider, record)
        except CloudError as exc:  # keep the original failure; the record says what is left behind
            self.c.store.update_server(name, extra={**record.extra, "destroy_error": str(exc)})
            self.progress(f"{name}: could not destroy what its launch made: {exc} (see 'servers list --reconcile')")
            return
        self._terminated(record, destroyed)

    def terminate(self, name: str, budget: float = 600.0) -> RunResult | None:
        """Decommission scripts first (recorded), then destroy what the launch made (by the recorded node id and
        launch token, whatever the record's state) and its volumes. The server's `extra["destroyed"]` says what
        was destroyed: empty when the cloud had nothing under that id or token."""
        check_budget(budget)
        record = self.c.store.get_server(name)
        result: RunResult | None = None
        failure: RunFailed | None = None
        if record.template and record.host and record.state in (ServerState.OPERATIONAL.value, ServerState.STRANDED.value):
            try:
                result = self.c.decommission(name, budget)
            except RunFailed as exc:
                result, failure = exc.result, exc
            except ConnectionFailed as exc:
                self.progress(f"{name}: decommission skipped: {exc}")
        record = self.c.store.get_server(name)
        provider = provider_for(record.cloud) if record.cloud else None
        with InterruptGuard() as guard, guard.shield():  # a Ctrl-C now would leave half an instance: finish first
            destroyed: list[str] = []
            if provider is not None and (record.node_id or record.extra.get("launch_token")):
                self.progress(f"{name}: destroying what its launch made on {record.cloud}")
                destroyed = self._destroy(provider, record)
                self.progress(f"{name}: destroyed {', '.join(destroyed)}" if destroyed else f"{name}: nothing to destroy")
            self._terminated(record, destroyed)
        if failure is not None:
            raise failure
        return result

    def reconcile(self) -> list[Discrepancy]:
        """Compare the store with each cloud: orphans (instances we do not track) and vanished servers."""
        records = self.c.store.list_servers()
        clouds = sorted({r.cloud for r in records if r.cloud} | {"local"})
        findings: list[Discrepancy] = []
        for cloud in clouds:
            try:
                instances = provider_for(cloud).list_instances()
            except (CloudError, BadInput) as exc:
                findings.append({"cloud": cloud, "kind": "unreachable", "detail": str(exc)})
                continue
            live = {i.node_id: i for i in instances}
            tracked = {r.node_id: r for r in records if r.cloud == cloud and r.node_id}
            launches = {str(r.extra["launch_token"]): r for r in records if r.cloud == cloud and r.extra.get("launch_token")}
            for node_id, inst in live.items():
                rec = tracked.get(node_id)
                if rec is None or rec.state == ServerState.TERMINATED.value:
                    maker = launches.get(inst.launch_token or "")
                    detail = (f"made by an interrupted launch of {maker.name} (its id was never recorded): "
                              f"'stackscripts terminate {maker.name}' destroys it" if maker is not None
                              else "instance runs but no live server record tracks it")
                    findings.append({"cloud": cloud, "kind": "orphan", "server": inst.server, "node_id": node_id,
                                     "detail": detail})
            for node_id, rec in tracked.items():
                if node_id not in live and rec.state != ServerState.TERMINATED.value:
                    findings.append({"cloud": cloud, "kind": "vanished", "server": rec.name, "node_id": node_id,
                                     "detail": f"recorded as {rec.state} but the cloud has no such instance"})
                elif node_id in live and rec.cloud == "local" and live[node_id].port and live[node_id].port != rec.port:
                    self.c.store.update_server(rec.name, port=live[node_id].port)  # port changes on restart
        return findings


__all__ = ["Discrepancy", "Launcher", "pick_settings", "wait_for_ssh"]
