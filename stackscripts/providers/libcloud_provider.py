"""Any cloud apache-libcloud speaks, through its compute API (drivers with SSH-key auth)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import CloudError
from .base import LAUNCH_TAG, SERVER_TAG, Instance, LaunchSpec, Progress, Provider

WAIT_RUNNING = 600.0


def cloud_call(cloud: str, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a libcloud method, turning any failure into a one-paragraph CloudError."""
    try:
        return fn(*args, **kwargs)
    except CloudError:
        raise
    except Exception as exc:  # libcloud raises many unrelated types (BaseHTTPError, InvalidCredsError...)
        detail = describe(exc)
        raise CloudError(f"{cloud}: {what} failed: {detail}",
                         hint=f"Check the credentials and settings of cloud {cloud!r} "
                              f"('stackscripts clouds check {cloud}').") from None


def describe(exc: BaseException) -> str:
    """One readable line: libcloud quotes some messages and urllib3 buries refused connections in a URL."""
    text = str(exc).strip().strip("'\"").strip() or type(exc).__name__
    if "Failed to establish a new connection" in text or "Max retries exceeded" in text:
        where = re.search(r"host='([^']*)', port=(\d+)", text)
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        return (f"cannot connect to {where.group(1) + ':' + where.group(2) if where else 'the endpoint'}"
                f" ({reason.group(1).strip() if reason else 'connection failed'})")
    return text


def node_tags(node: Any) -> dict[str, str]:
    """Tags or metadata of a node, whichever form its driver reports (GCE nests them in `items`)."""
    for key in ("tags", "labels", "metadata"):
        value = node.extra.get(key)
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            return {str(i.get("key")): str(i.get("value")) for i in value["items"] if isinstance(i, dict)}
        if isinstance(value, dict) and value:
            return {str(k): str(v) for k, v in value.items()}
    return {}


def key_method(create_node: Any) -> tuple[str, bool]:
    """How a driver's create_node takes an SSH key ("auth", "keypair", "metadata" or "none"), and whether
    it takes ex_metadata (for the stackscripts-* tags)."""
    import inspect

    accepts = set(inspect.signature(create_node).parameters)
    if "auth" in accepts:
        method = "auth"
    elif "ex_keyname" in accepts:
        method = "keypair"
    elif "ex_metadata" in accepts:
        method = "metadata"  # GCE: "ssh-keys" metadata
    else:
        method = "none"
    return method, "ex_metadata" in accepts


class LibcloudProvider(Provider):
    """Generic: image and size ids from the template's Settings, the key passed as NodeAuthSSHKey."""

    name = "libcloud"
    LOWERCASE = ("gce", "gcp", "google")  # drivers whose instance names are lower-case RFC 1035 labels

    def naming(self) -> tuple[re.Pattern[str], str]:
        if str(self.config.get("driver", self.cloud)).lower() in self.LOWERCASE:
            return (re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"),
                    "lower-case letters, digits and '-', at most 63, starting with a letter (GCE's rule)")
        return super().naming()

    def __init__(self, cloud: str, config: Mapping[str, Any]) -> None:
        super().__init__(cloud, config)
        self._driver: Any = None

    @property
    def driver(self) -> Any:
        if self._driver is None:
            self._driver = self.make_driver()
        return self._driver

    def make_driver(self) -> Any:
        from libcloud.compute.providers import get_driver

        name = self.config.get("driver", self.cloud)
        cls = cloud_call(self.cloud, f"loading libcloud driver {name!r}", get_driver, name)
        args = [a for a in (self.config.get("key"), self.config.get("secret")) if a is not None]
        kwargs = dict(self.config.get("options") or {})
        if self.config.get("region"):
            kwargs.setdefault("region", self.config["region"])
        return cloud_call(self.cloud, "connecting", cls, *args, **kwargs)

    # hooks for subclasses
    def create_kwargs(self, spec: LaunchSpec, progress: Progress | None) -> dict[str, Any]:
        """The SSH key and tags passed the way this driver's create_node takes them (see key_method)."""
        from libcloud.compute.base import NodeAuthSSHKey, NodeImage, NodeSize

        s = spec.settings
        size = NodeSize(s.instance_type or "", s.instance_type or "", 0, 0, 0, 0, self.driver)
        kwargs: dict[str, Any] = {"name": spec.server, "image": NodeImage(s.image, s.image, self.driver), "size": size}
        method, takes_metadata = key_method(self.driver.create_node)
        metadata = spec.launch_tags()
        if method == "auth":
            kwargs["auth"] = NodeAuthSSHKey(spec.public_key)
        elif method == "keypair":
            existing = {k.name for k in cloud_call(self.cloud, "list_key_pairs", self.driver.list_key_pairs)}
            if spec.key_name not in existing:
                cloud_call(self.cloud, "import_key_pair_from_string", self.driver.import_key_pair_from_string,
                           spec.key_name, spec.public_key)
            kwargs["ex_keyname"] = spec.key_name
        elif method == "metadata":
            metadata["ssh-keys"] = f"{s.ssh_user}:{spec.public_key}"
        else:
            raise CloudError(f"{self.cloud}: the libcloud driver {type(self.driver).__name__} takes no SSH key "
                             "(no auth, ex_keyname or ex_metadata parameter)",
                             hint="Use an image with your key baked in and add the server with 'servers add'.")
        if takes_metadata:
            kwargs["ex_metadata"] = metadata
        return kwargs

    def to_instance(self, node: Any, server: str, user: str) -> Instance:
        host = (node.public_ips or node.private_ips or [None])[0]
        if not host:
            raise CloudError(f"{self.cloud}: instance {node.id} has no IP address")
        private = (node.private_ips or [None])[0]
        return Instance(node_id=node.id, server=server, host=host, port=22, user=user, private_ip=private,
                        state=str(node.state), extra={"private_ip": private})

    def after_create(self, node: Any, spec: LaunchSpec, progress: Progress | None) -> None:
        """Attach volumes, tag... (nothing for the generic driver)."""

    # the contract
    def launch(self, spec: LaunchSpec, on_created: Callable[[str], None], progress: Progress | None = None) -> Instance:
        try:
            node = cloud_call(self.cloud, "create_node", self.driver.create_node, **self.create_kwargs(spec, progress))
        except BaseException as exc:  # the cloud may have accepted a create cut short: what carries our token
            self.clean_up_launch(spec.token, exc)
            raise
        try:
            on_created(node.id)
            self.after_create(node, spec, progress)
            node = self.wait_running(node, progress)
            return self.to_instance(node, spec.server, spec.settings.ssh_user)
        except BaseException as exc:
            self.clean_up_launch(spec.token, exc, node.id)
            raise

    def clean_up_launch(self, token: str, failure: BaseException, node_id: str | None = None) -> None:
        """Destroy what this launch made: the node the cloud returned, and what carries the launch token (never
        by server name); best effort, while failing: a clean-up error becomes a note of the failure.

        Drivers whose create_node takes no ex_metadata carry no token: only a returned node is destroyed."""
        try:
            if node_id is not None:
                self.destroy(node_id)
            self.destroy_launched(token)
        except CloudError as exc:
            failure.add_note(f"clean-up of launch {token} failed too: {exc}")

    def wait_running(self, node: Any, progress: Progress | None) -> Any:
        """Until the instance runs and has an address; bounded by config `wait_running`, reported when slow."""
        timeout = float(self.config.get("wait_running", WAIT_RUNNING))
        poll = float(self.config.get("poll_interval", 2.0))
        if progress:
            progress(f"{self.cloud}: waiting up to {timeout:.0f}s for {node.name} to run")
        start = reported = time.monotonic()
        state = "not listed yet"
        while True:
            current = self.find(node.id)
            if current is not None:
                state = str(current.state).lower()
                if state == "running" and (current.public_ips or current.private_ips):
                    return current
            now = time.monotonic()
            if now - start >= timeout:
                break
            if progress and now - reported >= 15:
                progress(f"{self.cloud}: {node.name} is {state} after {now - start:.0f}s (limit {timeout:.0f}s)")
                reported = now
            time.sleep(poll)
        raise CloudError(f"{self.cloud}: instance {node.id} did not reach 'running' within {timeout:.0f}s "
                         f"(last state: {state})",
                         hint="The instance is destroyed; try again or pick another instance type.")

    def find(self, node_id: str) -> Any:
        nodes = cloud_call(self.cloud, "list_nodes", self.driver.list_nodes)
        return next((n for n in nodes if n.id == node_id), None)

    def launched(self, token: str) -> list[str]:
        nodes = cloud_call(self.cloud, "list_nodes", self.driver.list_nodes)
        return [n.id for n in nodes if token and node_tags(n).get(LAUNCH_TAG) == token
                and str(n.state).lower() != "terminated"]

    def destroy(self, node_id: str, extra: Mapping[str, Any] | None = None) -> bool:
        node = self.find(node_id)
        if node is None or str(node.state).lower() == "terminated":
            return False
        cloud_call(self.cloud, f"destroying {node_id}", self.driver.destroy_node, node)
        return True

    def list_instances(self) -> list[Instance]:
        found = []
        for node in cloud_call(self.cloud, "list_nodes", self.driver.list_nodes):
            tags = node_tags(node)
            server = tags.get(SERVER_TAG)
            if server and str(node.state).lower() not in ("terminated",):
                host = (node.public_ips or node.private_ips or [""])[0]
                found.append(Instance(node.id, server, host, state=str(node.state), launch_token=tags.get(LAUNCH_TAG)))
        return found

    def check(self) -> str:
        nodes = cloud_call(self.cloud, "list_nodes", self.driver.list_nodes)
        return f"{self.cloud}: credentials work ({len(nodes)} instances visible)"
