"""Amazon EC2 through libcloud: key pair, SSH security group, tagged instance, EBS volumes.

Cloud settings (clouds.yaml or STACKSCRIPTS_CLOUD_<NAME>_*): `key`, `secret`, `region`
(default us-east-1), `endpoint` (another EC2 API, e.g. http://127.0.0.1:5000), and optionally
`instance_type`, `availability_zone`, `security_group` (default stackscripts-ssh), `ssh_cidr`
(default 0.0.0.0/0), `volume_type` (default gp3), `address` (public|private),
`signature_version` (default 4), `timeout` (seconds per API call), `wait_running`,
`wait_volume`, `wait_terminated`, `poll_interval` (seconds).

Volumes: every template volume becomes an EBS volume in the instance's zone, tagged with its
server, its name and the instance. `destroy` deletes the ephemeral ones after the instance has
terminated. Persistent ones (`Ephemeral: false`, e.g. MariaDB's or Kafka's data) are never
deleted by stackscripts: they stay `available` and are attached again when a server of the same
name is launched (the new instance is placed in their zone). Delete them in the EC2 console
when the data is no longer wanted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import CloudError
from .base import LAUNCH_TAG, SERVER_TAG, Instance, LaunchSpec, Progress
from .ec2_resources import (
    SSH_GROUP,
    create_volume,
    delete_volumes,
    devices_for,
    ensure_key_pair,
    ensure_ssh_group,
    find_persistent,
    tag_volume,
    tagged_volumes,
    volume_record,
    wait_volume,
)
from .libcloud_provider import LibcloudProvider, cloud_call

LIVE_STATES = ["pending", "running", "stopping", "stopped"]


class EC2Provider(LibcloudProvider):
    name = "ec2"
    # a Name tag and the volumes' tags take any text; the store's own rule (api/servers.py SERVER_NAME) applies
    name_rule = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    name_hint = "letters, digits, '-', '_' and '.', at most 63, starting with a letter or digit"

    # configuration
    def seconds(self, key: str, default: float) -> float:
        try:
            return float(self.config.get(key, default))
        except (TypeError, ValueError):
            raise CloudError(f"{self.cloud}: setting {key!r} must be a number of seconds, not {self.config[key]!r}") from None

    def make_driver(self) -> Any:
        from libcloud.compute.providers import get_driver
        from libcloud.compute.types import Provider as Kind

        key, secret = self.config.get("key"), self.config.get("secret")
        if not key or not secret:
            name = self.cloud.upper()
            raise CloudError(f"{self.cloud}: no AWS credentials configured",
                             hint=f"Set key and secret for {self.cloud!r} in the clouds file (mode 0600) or "
                                  f"STACKSCRIPTS_CLOUD_{name}_KEY and STACKSCRIPTS_CLOUD_{name}_SECRET.")
        kwargs: dict[str, Any] = {"region": str(self.config.get("region") or "us-east-1"),
                                  "signature_version": str(self.config.get("signature_version", "4")),
                                  "timeout": self.seconds("timeout", 60.0)}
        if self.config.get("endpoint"):
            kwargs.update(self.endpoint_options(str(self.config["endpoint"])))
        kwargs.update(self.config.get("options") or {})
        cls = get_driver(Kind.EC2)
        return cloud_call(self.cloud, "connecting", cls, str(key), str(secret), **kwargs)

    def endpoint_options(self, endpoint: str) -> dict[str, Any]:
        """`http://127.0.0.1:5000` -> host/port/secure of the libcloud connection."""
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise CloudError(f"{self.cloud}: endpoint {endpoint!r} is not an http(s) URL",
                             hint="Write endpoint: https://ec2.example.com or http://127.0.0.1:5000.")
        secure = parts.scheme == "https"
        return {"host": parts.hostname, "port": port or (443 if secure else 80), "secure": secure}

    # launch
    def launch(self, spec: LaunchSpec, on_created: Callable[[str], None], progress: Progress | None = None) -> Instance:
        def say(message: str) -> None:
            if progress:
                progress(f"{self.cloud}: {message}")

        s = spec.settings
        key_pair = ensure_key_pair(self.cloud, self.driver, spec.key_name, spec.public_key)
        group = ensure_ssh_group(self.cloud, self.driver, str(self.config.get("security_group") or SSH_GROUP),
                                 str(self.config.get("ssh_cidr") or "0.0.0.0/0"))
        devices = devices_for(s.volumes)
        reuse = {v.name: find_persistent(self.cloud, self.driver, spec.server, v.name) for v in s.volumes if not v.ephemeral}
        zone = self.zone_for({n: v for n, v in reuse.items() if v is not None})
        kwargs = self.node_kwargs(spec, key_pair, group, zone)
        try:
            node = cloud_call(self.cloud, "create_node", self.driver.create_node, **kwargs)
        except BaseException as exc:  # cut short after AWS accepted it? what carries this launch's token
            self.clean_up_launch(spec.token, exc)
            raise
        made: list[dict[str, Any]] = []
        try:
            on_created(node.id)
            zone = node.extra.get("availability") or zone
            say(f"created {node.id} for {spec.server} in {zone or 'a zone of its choice'}")
            for volume_spec, device in zip(s.volumes, devices, strict=False):
                volume = reuse.get(volume_spec.name)
                if volume is not None:
                    tag_volume(self.cloud, self.driver, volume, spec.server, node.id, volume_spec)
                    say(f"reusing persistent volume {volume.id} ({volume_spec.name})")
                else:
                    volume = create_volume(self.cloud, self.driver, spec.server, node.id, volume_spec,
                                           self.location(zone), str(self.config.get("volume_type") or "gp3"))
                made.append(volume_record(volume, volume_spec, device, zone))
            node = self.wait_running(node, progress)
            for record in made:
                self.attach(node, record, say)
            return self.to_instance(node, spec.server, s.ssh_user, made, key_pair, group)
        except BaseException as exc:
            try:
                self.destroy(node.id, {"volumes": made})
            except Exception as cleanup:  # keep the original failure; the caller retries the destroy
                exc.add_note(f"cleanup of {node.id} failed too: {cleanup}")
            raise

    def node_kwargs(self, spec: LaunchSpec, key_pair: str, group: str, zone: str | None) -> dict[str, Any]:
        from libcloud.compute.base import NodeImage, NodeSize

        s = spec.settings
        size_id = s.instance_type or str(self.config.get("instance_type") or "t3.micro")
        kwargs: dict[str, Any] = {
            "name": spec.server, "size": NodeSize(size_id, size_id, 0, 0, 0, 0, self.driver),
            "image": NodeImage(s.image, s.image, self.driver), "ex_keyname": key_pair,
            "ex_security_groups": [group], "ex_metadata": {**spec.launch_tags(), SERVER_TAG: spec.server}}
        zone = zone or self.config.get("availability_zone")
        if zone:
            kwargs["location"] = self.location(str(zone))
        return kwargs

    def zone_for(self, reused: Mapping[str, Any]) -> str | None:
        """The zone the instance must be in to attach the persistent volumes it reuses."""
        zones = {v.extra.get("zone") for v in reused.values()}
        if len(zones) > 1:
            where = ", ".join(f"{name}: {v.id} in {v.extra.get('zone')}" for name, v in sorted(reused.items()))
            raise CloudError(f"{self.cloud}: the persistent volumes to reattach are in different zones ({where})",
                             hint="Move them into one zone (snapshot and restore) before launching.")
        return zones.pop() if zones else None

    def location(self, zone: str | None) -> Any:
        if not zone:
            return None
        locations = cloud_call(self.cloud, "listing availability zones", self.driver.list_locations)
        for location in locations:
            if location.availability_zone.name == zone:
                return location
        raise CloudError(f"{self.cloud}: no availability zone {zone!r} in region {self.driver.region_name}",
                         hint=f"Zones: {', '.join(loc.availability_zone.name for loc in locations) or 'none'}.")

    def attach(self, node: Any, record: Mapping[str, Any], say: Callable[[str], None]) -> None:
        volume = wait_volume(self.cloud, self.driver, record["id"], ("available",), self.seconds("wait_volume", 300.0),
                             self.seconds("poll_interval", 2.0), say)
        if volume is None:
            raise CloudError(f"{self.cloud}: volume {record['id']} ({record['name']}) vanished before it was attached")
        cloud_call(self.cloud, f"attaching volume {record['id']} at {record['device']}", self.driver.attach_volume,
                   node, volume, record["device"])
        say(f"attached {record['name']} ({record['id']}) at {record['device']}")

    def to_instance(self, node: Any, server: str, user: str, volumes: list[dict[str, Any]] | None = None,
                    key_pair: str | None = None, group: str | None = None) -> Instance:
        public, private = (node.public_ips or [None])[0], (node.private_ips or [None])[0]
        host = private if self.config.get("address") == "private" else (public or private)
        if not host:
            raise CloudError(f"{self.cloud}: instance {node.id} has no IP address")
        extra = {"private_ip": private, "public_ip": public, "zone": node.extra.get("availability"),
                 "key_pair": key_pair, "security_group": group, "volumes": volumes or []}
        return Instance(node_id=node.id, server=server, host=host, port=22, user=user, private_ip=private,
                        state=str(node.state), extra=extra)

    # the rest of the contract
    def find(self, node_id: str) -> Any:
        nodes = cloud_call(self.cloud, "describing instances", self.driver.list_nodes,
                           ex_filters={"instance-id": node_id})
        return nodes[0] if nodes else None

    def destroy(self, node_id: str, extra: Mapping[str, Any] | None = None) -> bool:
        """Terminate the instance, then delete its ephemeral volumes (persistent ones are kept); idempotent.
        False when there was nothing left to destroy."""
        node = self.find(node_id)
        live = node is not None and str(node.state).lower() != "terminated"
        if live:
            cloud_call(self.cloud, f"terminating {node_id}", self.driver.destroy_node, node)
        records = {r["id"]: dict(r) for r in (extra or {}).get("volumes") or []}
        for record in tagged_volumes(self.cloud, self.driver, node_id):
            records.setdefault(record["id"], record)
        doomed = [r for r in records.values() if r.get("ephemeral", True)]
        if not doomed:
            return live
        poll = self.seconds("poll_interval", 2.0)
        if node is not None:
            self.wait_terminated(node_id, self.seconds("wait_terminated", 300.0), poll)
        return delete_volumes(self.cloud, self.driver, doomed, self.seconds("wait_volume", 300.0), poll) > 0 or live

    def launched(self, token: str) -> list[str]:
        if not token:
            return []
        nodes = cloud_call(self.cloud, "describing instances", self.driver.list_nodes,
                           ex_filters={f"tag:{LAUNCH_TAG}": token, "instance-state-name": LIVE_STATES})
        return [n.id for n in nodes if (n.extra.get("tags") or {}).get(LAUNCH_TAG) == token]

    def wait_terminated(self, node_id: str, timeout: float, poll: float) -> None:
        """Volumes detach only once the instance has terminated."""
        deadline = time.monotonic() + timeout
        while True:
            node = self.find(node_id)
            state = str(node.state).lower() if node is not None else "terminated"
            if state == "terminated":
                return
            if time.monotonic() >= deadline:
                raise CloudError(f"{self.cloud}: instance {node_id} is still {state} after {timeout:.0f}s; "
                                 "its volumes were not deleted",
                                 hint="Run the terminate again once the instance has terminated.")
            time.sleep(poll)

    def list_instances(self) -> list[Instance]:
        nodes = cloud_call(self.cloud, "describing instances", self.driver.list_nodes,
                           ex_filters={"tag-key": SERVER_TAG, "instance-state-name": LIVE_STATES})
        found = []
        for node in nodes:
            tags = node.extra.get("tags") or {}
            if tags.get(SERVER_TAG):
                host = (node.public_ips or node.private_ips or [""])[0]
                found.append(Instance(node.id, tags[SERVER_TAG], host, private_ip=(node.private_ips or [None])[0],
                                      state=str(node.state), extra={"tags": dict(tags)},
                                      launch_token=tags.get(LAUNCH_TAG)))
        return found

    def check(self) -> str:
        zones = cloud_call(self.cloud, "listing availability zones", self.driver.list_locations)
        nodes = cloud_call(self.cloud, "describing instances", self.driver.list_nodes)
        return (f"{self.cloud}: credentials work in {self.driver.region_name} "
                f"({len(zones)} availability zones, {len(nodes)} instances visible)")
