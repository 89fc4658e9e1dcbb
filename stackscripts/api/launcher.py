"""Launch servers from templates on a cloud, boot them, terminate them; never orphan an instance."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..clouds import provider_for
from ..errors import BadInput, CloudError, ConnectionFailed, NotFound, RunFailed
from ..inputs.resolve import Layer, parse_assignments
from ..model import CloudSettings, Phase, RunResult, ServerState, Template
from ..plan import build_plan, resolve_template
from ..providers.base import DEPLOYMENT_TAG, SERVER_TAG, TEMPLATE_TAG, Instance, LaunchSpec, Provider
from ..store.base import ServerRecord
from ..templates import load_template
from ..transport.keys import ensure_keypair
from .controller import Controller

Progress = Callable[[str], None]
SSH_WAIT = 180.0


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

    def launch(self, template: str | Path, name: str, cloud: str = "local", image: str | None = None,
               inputs: Sequence[str] = (), layers: Sequence[Layer] = (), deployment: str | None = None,
               destroy_on_failure: bool = False, key_name: str | None = None) -> RunResult:
        """Create the instance, record it before and after each cloud call, wait for SSH, boot."""
        loaded = load_template(template)
        resolved = resolve_template(loaded, self.c.catalog)
        extra = [*layers, *([parse_assignments(inputs)] if inputs else [])]
        self.c.materialize(build_plan(resolved, Phase.BOOT, extra))  # inputs and credentials before any cloud call
        provider = provider_for(cloud)
        settings = pick_settings(loaded, cloud, provider, image)
        try:
            existing = self.c.store.get_server(name)
        except NotFound:
            existing = None
        if existing is not None and existing.state != ServerState.TERMINATED.value:
            raise BadInput(f"server {name} already exists ({existing.state})", hint="Terminate it first or pick another name.")
        key_path, public_key = ensure_keypair(key_name or deployment or name)
        self.c.store.put_server(ServerRecord(name=name, state=ServerState.PENDING.value, cloud=cloud,
                                             template=str(Path(template).resolve()), template_sha256=loaded.sha256,
                                             key_path=str(key_path), user=settings.ssh_user, deployment=deployment,
                                             extra={"launching": True}))
        tags = {SERVER_TAG: name, TEMPLATE_TAG: loaded.sha256, **({DEPLOYMENT_TAG: deployment} if deployment else {})}
        spec = LaunchSpec(server=name, settings=settings, public_key=public_key, key_name=key_path.stem, tags=tags)
        instance: Instance | None = None
        launch_started = time.time()
        try:
            self.progress(f"{name}: launching on {cloud} ({settings.image})")
            instance = provider.launch(spec, lambda node_id: self.c.store.update_server(name, node_id=node_id),
                                       self.progress)
            self.c.store.update_server(name, host=instance.host, port=instance.port, user=instance.user,
                                       node_id=instance.node_id, extra={**instance.extra, "private_ip": instance.private_ip})
            self.progress(f"{name}: waiting for SSH at {instance.host}:{instance.port}")
            wait_for_ssh(instance.host, instance.port, float(provider.config.get("ssh_wait", SSH_WAIT)))
            self.c.store.update_server(name, extra={**instance.extra, "private_ip": instance.private_ip,
                                                    "launch_started": launch_started, "ssh_ready": time.time()})
        except BaseException:
            self._destroy_quietly(provider, name, instance)
            raise
        try:
            return self.c.boot(name, template, inputs, layers=layers)
        except RunFailed:
            if destroy_on_failure:
                self._destroy_quietly(provider, name, instance)
            raise
        except BaseException:
            self._destroy_quietly(provider, name, instance)
            raise

    def _destroy_quietly(self, provider: Provider, name: str, instance: Instance | None) -> None:
        """Destroy what was created (the store knows the node id even if `instance` is None)."""
        record = self.c.store.get_server(name)
        node_id = instance.node_id if instance else record.node_id
        if node_id:
            try:
                provider.destroy(node_id, record.extra)
            except CloudError as exc:  # keep the original failure; the record says what is left behind
                self.c.store.update_server(name, extra={**record.extra, "destroy_error": str(exc)})
                self.progress(f"{name}: could not destroy {node_id}: {exc} (see 'servers list --reconcile')")
                return
        self.c.store.update_server(name, state=ServerState.TERMINATED.value)

    def terminate(self, name: str, budget: float = 600.0) -> RunResult | None:
        """Decommission scripts first (recorded), then destroy the instance and its volumes."""
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
        if record.cloud and record.node_id:
            provider = provider_for(record.cloud)
            self.progress(f"{name}: destroying instance {record.node_id[:12]} on {record.cloud}")
            provider.destroy(record.node_id, record.extra)
        self.c.store.update_server(name, state=ServerState.TERMINATED.value)
        if failure is not None:
            raise failure
        return result

    def reconcile(self) -> list[dict]:
        """Compare the store with each cloud: orphans (instances we do not track) and vanished servers."""
        records = self.c.store.list_servers()
        clouds = sorted({r.cloud for r in records if r.cloud} | {"local"})
        findings: list[dict] = []
        for cloud in clouds:
            try:
                instances = provider_for(cloud).list_instances()
            except (CloudError, BadInput) as exc:
                findings.append({"cloud": cloud, "kind": "unreachable", "detail": str(exc)})
                continue
            live = {i.node_id: i for i in instances}
            tracked = {r.node_id: r for r in records if r.cloud == cloud and r.node_id}
            for node_id, inst in live.items():
                rec = tracked.get(node_id)
                if rec is None or rec.state == ServerState.TERMINATED.value:
                    findings.append({"cloud": cloud, "kind": "orphan", "server": inst.server, "node_id": node_id,
                                     "detail": "instance runs but no live server record tracks it"})
            for node_id, rec in tracked.items():
                if node_id not in live and rec.state != ServerState.TERMINATED.value:
                    findings.append({"cloud": cloud, "kind": "vanished", "server": rec.name, "node_id": node_id,
                                     "detail": f"recorded as {rec.state} but the cloud has no such instance"})
                elif node_id in live and rec.cloud == "local" and live[node_id].port and live[node_id].port != rec.port:
                    self.c.store.update_server(rec.name, port=live[node_id].port)  # port changes on restart
        return findings


__all__ = ["Launcher", "pick_settings", "wait_for_ssh"]
