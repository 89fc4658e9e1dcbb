"""What an EC2 launch needs besides the instance: the key pair, the SSH security group, EBS volumes.

Volumes carry tags so that they can be found again without the store: the server they belong
to, the template's volume name, the instance they were made for, and whether they are ephemeral
(deleted with the instance) or persistent (`Ephemeral: false`: kept, and attached again when the
same server is launched anew).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

from ..errors import CloudError
from ..model import VolumeSpec
from .base import SERVER_TAG
from .libcloud_provider import cloud_call

VOLUME_TAG = "stackscripts-volume"
INSTANCE_TAG = "stackscripts-instance"
EPHEMERAL_TAG = "stackscripts-ephemeral"
SSH_GROUP = "stackscripts-ssh"
DEVICES = tuple(f"/dev/sd{letter}" for letter in "fghijklmnop")

Say = Callable[[str], None]


def aws_says(exc: BaseException, *codes: str) -> bool:
    """True if a libcloud error carries one of these AWS error codes (`Code: message` lines)."""
    text = str(exc)
    return any(f"{code}:" in text or text.startswith(code) for code in codes)


def key_pair_name(key_name: str, public_key: str) -> str:
    """The deployment's key name plus a digest of the key, so that a name never meets another key."""
    fields = public_key.split()
    blob = fields[1] if len(fields) > 1 else public_key
    return f"{key_name}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def ensure_key_pair(cloud: str, driver: Any, key_name: str, public_key: str) -> str:
    """Import the public key once; an existing pair of that (digest-suffixed) name holds the same key."""
    name = key_pair_name(key_name, public_key)
    try:
        driver.import_key_pair_from_string(name, public_key)
    except Exception as exc:
        if not aws_says(exc, "InvalidKeyPair.Duplicate"):
            fail(cloud, f"importing key pair {name}", exc)
    return name


def ensure_ssh_group(cloud: str, driver: Any, name: str, cidr: str, *, retry: bool = True) -> str:
    """A security group (of the default VPC) letting TCP 22 in from `cidr`, created once per cloud and reused."""
    groups = cloud_call(cloud, "listing security groups", driver.ex_get_security_groups, filters={"group-name": name})
    if groups:
        group_id = groups[0].id
        rules = groups[0].ingress_rules or []
    else:
        try:
            created = driver.ex_create_security_group(name, "stackscripts: SSH from the controller")
        except Exception as exc:
            if not retry or not aws_says(exc, "InvalidGroup.Duplicate"):
                fail(cloud, f"creating security group {name}", exc)
            return ensure_ssh_group(cloud, driver, name, cidr, retry=False)  # another controller was faster
        group_id, rules = created["group_id"], []
    if not any(_opens_ssh(rule, cidr) for rule in rules):
        try:
            driver.ex_authorize_security_group_ingress(group_id, 22, 22, cidr_ips=[cidr], protocol="tcp")
        except Exception as exc:
            if not aws_says(exc, "InvalidPermission.Duplicate"):
                fail(cloud, f"opening port 22 in {name}", exc)
    return name


def _opens_ssh(rule: Mapping[str, Any], cidr: str) -> bool:
    ports = str(rule.get("from_port")), str(rule.get("to_port"))
    return rule.get("protocol") in ("tcp", "-1") and ports == ("22", "22") and cidr in (rule.get("cidr_ips") or [])


def fail(cloud: str, what: str, exc: BaseException) -> NoReturn:
    """Raise `exc` as the CloudError `cloud_call` would have made of it."""

    def reraise() -> None:
        raise exc

    cloud_call(cloud, what, reraise)
    raise AssertionError("unreachable")


def devices_for(volumes: Sequence[VolumeSpec]) -> list[str]:
    """Each volume's device: its own `Device`, else the next free /dev/sdf../dev/sdp."""
    taken = {v.device for v in volumes if v.device}
    free = iter(d for d in DEVICES if d not in taken)
    try:
        return [v.device or next(free) for v in volumes]
    except StopIteration:
        raise CloudError(f"too many volumes ({len(volumes)}) for the free device names {DEVICES[0]}..{DEVICES[-1]}") from None


def volume_record(volume: Any, spec: VolumeSpec, device: str, zone: str | None) -> dict[str, Any]:
    return {"id": volume.id, "name": spec.name, "device": device, "size_gb": spec.size_gb,
            "ephemeral": spec.ephemeral, "zone": zone}


def find_persistent(cloud: str, driver: Any, server: str, name: str) -> Any | None:
    """An available persistent volume left by an earlier instance of this server."""
    filters = {f"tag:{SERVER_TAG}": server, f"tag:{VOLUME_TAG}": name, f"tag:{EPHEMERAL_TAG}": "false",
               "status": "available"}
    found = cloud_call(cloud, "listing volumes", driver.list_volumes, ex_filters=filters)
    return min(found, key=lambda v: v.id) if found else None


def create_volume(cloud: str, driver: Any, server: str, node_id: str, spec: VolumeSpec, location: Any,
                  volume_type: str) -> Any:
    volume = cloud_call(cloud, f"creating volume {spec.name} ({spec.size_gb} GB)", driver.create_volume,
                        spec.size_gb, f"{server}-{spec.name}", location=location, ex_volume_type=volume_type)
    try:
        tag_volume(cloud, driver, volume, server, node_id, spec)
    except BaseException as exc:  # untagged, nobody could find it again: delete it now
        try:
            driver.destroy_volume(volume)
        except Exception as cleanup:  # keep the tagging failure; say what is left behind
            exc.add_note(f"{cloud}: volume {volume.id} is left behind (deleting it failed: {cleanup})")
        raise
    return volume


def tag_volume(cloud: str, driver: Any, volume: Any, server: str, node_id: str, spec: VolumeSpec) -> None:
    tags = {"Name": f"{server}-{spec.name}", SERVER_TAG: server, VOLUME_TAG: spec.name, INSTANCE_TAG: node_id,
            EPHEMERAL_TAG: "true" if spec.ephemeral else "false"}
    cloud_call(cloud, f"tagging volume {volume.id}", driver.ex_create_tags, volume, tags)


def tagged_volumes(cloud: str, driver: Any, node_id: str) -> list[dict[str, Any]]:
    """Volumes made for an instance, found by tag (covers a crash before the store heard of them)."""
    found = cloud_call(cloud, "listing volumes", driver.list_volumes, ex_filters={f"tag:{INSTANCE_TAG}": node_id})
    records = []
    for volume in found:
        tags = volume.extra.get("tags") or {}
        records.append({"id": volume.id, "name": tags.get(VOLUME_TAG, volume.name),
                        "ephemeral": tags.get(EPHEMERAL_TAG) != "false"})
    return records


def volume_state(cloud: str, driver: Any, volume_id: str) -> tuple[Any | None, str]:
    """(volume, state) with state 'gone' when the cloud no longer has it."""
    found = cloud_call(cloud, "listing volumes", driver.list_volumes, ex_filters={"volume-id": volume_id})
    if not found:
        return None, "gone"
    return found[0], str(found[0].extra.get("state") or found[0].state).lower()


def wait_volume(cloud: str, driver: Any, volume_id: str, states: Iterable[str], timeout: float, poll: float,
                say: Say | None = None) -> Any | None:
    """Until the volume is in one of `states` (or gone); bounded, and reported when slow."""
    wanted = set(states)
    start = time.monotonic()
    reported = start
    while True:
        volume, state = volume_state(cloud, driver, volume_id)
        if state in wanted or state == "gone":
            return volume
        now = time.monotonic()
        if now - start >= timeout:
            raise CloudError(f"{cloud}: volume {volume_id} is still {state} after {timeout:.0f}s "
                             f"(waiting for {'/'.join(sorted(wanted))})",
                             hint="Delete or detach it in the EC2 console, or run the command again later.")
        if say and now - reported >= 15:
            say(f"volume {volume_id} is {state} ({now - start:.0f}s of {timeout:.0f}s)")
            reported = now
        time.sleep(poll)


def delete_volumes(cloud: str, driver: Any, records: Sequence[Mapping[str, Any]], timeout: float,
                   poll: float) -> int:
    """Delete each volume once it has detached; one already gone is fine. How many were deleted."""
    deleted = 0
    for record in records:
        volume = wait_volume(cloud, driver, record["id"], ("available",), timeout, poll)
        if volume is None:
            continue
        try:
            driver.destroy_volume(volume)  # the return value is not reliable across EC2 look-alikes
            deleted += 1
        except Exception as exc:
            if not aws_says(exc, "InvalidVolume.NotFound"):
                fail(cloud, f"deleting volume {record['id']}", exc)
    return deleted
