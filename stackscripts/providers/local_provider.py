"""The local cloud (Docker system containers) as a provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import CloudError
from .base import LAUNCH_TAG, SERVER_TAG, Instance, LaunchSpec, Progress
from .libcloud_provider import LibcloudProvider, cloud_call


def label(tag: str) -> str:
    """A provider tag as the local cloud's container label: stackscripts-server -> stackscripts.server."""
    return tag.replace("-", ".")


class LocalProvider(LibcloudProvider):
    name = "local"

    def make_driver(self) -> Any:
        from .local import LocalNodeDriver, missing_parts, register_with_libcloud

        register_with_libcloud()  # libcloud's get_driver("local") works from here on
        missing = missing_parts()
        if missing:
            raise CloudError("local cloud: this machine lacks " + "; ".join(missing),
                             hint="Run 'make setup' (or bash .ci/setup.sh) as root.")
        return LocalNodeDriver(ex_state_dir=self.config.get("state_dir"))

    def launch(self, spec: LaunchSpec, on_created: Callable[[str], None], progress: Progress | None = None) -> Instance:
        s = spec.settings
        volumes = [{"name": v.name, "size_gb": v.size_gb, "device": v.device, "ephemeral": v.ephemeral}
                   for v in s.volumes]
        labels = {label(k): v for k, v in spec.launch_tags().items()}
        try:
            node = cloud_call(self.cloud, "create_node", self.driver.create_node, spec.server, s.instance_type,
                              s.image, ex_authorized_key=spec.public_key, ex_volumes=volumes, ex_labels=labels,
                              ex_on_progress=progress, ex_ssh_user=s.ssh_user)
        except BaseException as exc:  # e.g. Ctrl-C half-way: what this launch made carries its token; an instance
            self.clean_up_launch(spec.token, exc)  # of that name that does not (another store's) is never touched
            raise
        try:
            on_created(node.id)
            return self.to_instance(node, spec.server)
        except BaseException as exc:
            self.clean_up_launch(spec.token, exc, node.id)
            raise

    def to_instance(self, node: Any, server: str, user: str | None = None) -> Instance:
        """The instance as recorded; its login user is the one the driver made (node.extra["ssh_user"])."""
        private = (node.private_ips or [None])[0]
        return Instance(node_id=node.id, server=server, host="127.0.0.1", port=int(node.extra["ssh_port"]),
                        user=user or node.extra.get("ssh_user") or "root", private_ip=private, state=str(node.state),
                        extra={"private_ip": private, "volumes": node.extra.get("volumes", [])})

    def refresh(self, node_id: str) -> Instance | None:
        """Re-read an instance (its published SSH port changes when the container restarts)."""
        node = self.driver.ex_get_node(node_id)
        if node is None:
            return None
        return self.to_instance(node, node.extra.get("labels", {}).get(label(SERVER_TAG), node.name))

    def start(self, node_id: str) -> Instance:
        """Start a stopped instance (after a host reboot its drives are attached again first); its new port."""
        cloud_call(self.cloud, f"starting {node_id}", self.driver.start_node, node_id)
        instance = self.refresh(node_id)
        if instance is None:
            raise CloudError(f"local cloud: instance {node_id[:12]} vanished while starting.")
        return instance

    def find(self, node_id: str) -> Any:
        return self.driver.ex_get_node(node_id)

    def destroy(self, node_id: str, extra: Mapping[str, Any] | None = None) -> bool:
        existed = cloud_call(self.cloud, f"looking up {node_id}", self.driver.ex_get_node, node_id) is not None
        cloud_call(self.cloud, f"destroying {node_id}", self.driver.destroy_node, node_id)
        return existed

    def launched(self, token: str) -> list[str]:
        nodes = cloud_call(self.cloud, "list_nodes", self.driver.list_nodes, {label(LAUNCH_TAG): token}) if token else []
        return [node.id for node in nodes]

    def destroy_launched(self, token: str) -> list[str]:
        """The instance carrying the token, or the drives and folder of a create killed before it existed."""
        destroyed: list[str] = cloud_call(self.cloud, f"destroying launch {token}", self.driver.ex_destroy_launched,
                                          token)
        return destroyed

    def list_instances(self) -> list[Instance]:
        found = []
        for node in cloud_call(self.cloud, "list_nodes", self.driver.list_nodes):
            labels = node.extra.get("labels", {})
            if labels.get(label(SERVER_TAG)):
                found.append(Instance(node.id, labels[label(SERVER_TAG)], "127.0.0.1",
                                      int(node.extra.get("ssh_port") or 0), user=node.extra.get("ssh_user") or "root",
                                      state=str(node.state), launch_token=labels.get(label(LAUNCH_TAG))))
        return found

    def check(self) -> str:
        count = len(self.driver.list_nodes())
        return f"local: Docker engine reachable, {count} local instances"
