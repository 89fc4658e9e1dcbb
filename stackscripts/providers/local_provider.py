"""The local cloud (Docker system containers) as a provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import CloudError
from .base import SERVER_TAG, Instance, LaunchSpec, Progress
from .libcloud_provider import LibcloudProvider, cloud_call


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
        volumes = [{"name": v.name, "size_gb": v.size_gb, "device": v.device} for v in s.volumes]
        labels = {k.replace("-", "."): v for k, v in spec.tags.items()}
        try:
            node = cloud_call(self.cloud, "create_node", self.driver.create_node, spec.server, s.instance_type,
                              s.image, ex_authorized_key=spec.public_key, ex_volumes=volumes, ex_labels=labels,
                              ex_on_progress=progress)
        except BaseException:  # interrupted half-way (Ctrl-C): the container may exist under the server's name
            self.driver.destroy_node(spec.server)
            raise
        try:
            on_created(node.id)
            return self.to_instance(node, spec.server, s.ssh_user)
        except BaseException:
            self.destroy(node.id)
            raise

    def to_instance(self, node: Any, server: str, user: str) -> Instance:
        private = (node.private_ips or [None])[0]
        return Instance(node_id=node.id, server=server, host="127.0.0.1", port=int(node.extra["ssh_port"]),
                        user="root", private_ip=private, state=str(node.state),
                        extra={"private_ip": private, "volumes": node.extra.get("volumes", [])})

    def refresh(self, node_id: str) -> Instance | None:
        """Re-read an instance (its published SSH port changes when the container restarts)."""
        node = self.driver.ex_get_node(node_id)
        if node is None:
            return None
        return self.to_instance(node, node.extra.get("labels", {}).get(SERVER_TAG.replace("-", "."), node.name), "root")

    def find(self, node_id: str) -> Any:
        return self.driver.ex_get_node(node_id)

    def destroy(self, node_id: str, extra: Mapping[str, Any] | None = None) -> None:
        cloud_call(self.cloud, f"destroying {node_id}", self.driver.destroy_node, node_id)

    def list_instances(self) -> list[Instance]:
        found = []
        for node in cloud_call(self.cloud, "list_nodes", self.driver.list_nodes):
            server = node.extra.get("labels", {}).get(SERVER_TAG.replace("-", "."))
            if server:
                found.append(Instance(node.id, server, "127.0.0.1", int(node.extra.get("ssh_port") or 0),
                                      state=str(node.state)))
        return found

    def check(self) -> str:
        count = len(self.driver.list_nodes())
        return f"local: Docker engine reachable, {count} local instances"
