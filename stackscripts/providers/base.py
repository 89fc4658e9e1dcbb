"""The provider contract: launch an instance for a server, list managed instances, destroy them."""

from __future__ import annotations

import abc
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInput
from ..model import CloudSettings
from ..registry import Registry

Progress = Callable[[str], None]

SERVER_TAG = "stackscripts-server"
TEMPLATE_TAG = "stackscripts-template-sha256"
DEPLOYMENT_TAG = "stackscripts-deployment"
# One launch's own mark: chosen (and recorded in the server's `extra`) before the create call, set on the instance,
# so that a clean-up or `terminate` destroys only what that launch made, never another store's instance of that name.
LAUNCH_TAG = "stackscripts-launch"


def new_launch_token() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a provider needs to create one server's instance."""

    server: str
    settings: CloudSettings
    public_key: str  # OpenSSH line authorised for settings.ssh_user
    key_name: str  # a provider-side key pair name (one per deployment)
    tags: Mapping[str, str] = field(default_factory=dict)
    token: str = ""  # this launch's LAUNCH_TAG value; a fresh one when left out

    def __post_init__(self) -> None:
        if not self.token:
            object.__setattr__(self, "token", new_launch_token())

    def launch_tags(self) -> dict[str, str]:
        """The tags the instance carries: the spec's, plus this launch's token."""
        return {**self.tags, LAUNCH_TAG: self.token}


@dataclass(frozen=True)
class Instance:
    """A running instance as the store records it."""

    node_id: str
    server: str
    host: str
    port: int = 22
    user: str = "root"
    private_ip: str | None = None
    state: str = "running"
    extra: Mapping[str, Any] = field(default_factory=dict)
    launch_token: str | None = None  # the LAUNCH_TAG the instance carries, when listed


class Provider(abc.ABC):
    """One cloud account/region. `launch` either returns a running instance or cleans up and raises.

    Clean-up never goes by server name (another store may run an instance of that name): by the node id the
    cloud returned, or by the launch token (`LaunchSpec.token`, tag LAUNCH_TAG) chosen before the create call."""

    name: str = ""
    # what the cloud accepts as the instance's name (its host name on most clouds): an RFC 1123 label
    name_rule: re.Pattern[str] = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
    name_hint = "letters, digits and '-', at most 63, starting and ending with a letter or digit (a host name)"

    def __init__(self, cloud: str, config: Mapping[str, Any]) -> None:
        self.cloud = cloud
        self.config = dict(config)

    def naming(self) -> tuple[re.Pattern[str], str]:
        """The rule an instance name must follow on this cloud, and how to say it."""
        return self.name_rule, self.name_hint

    def check_name(self, server: str) -> None:
        """BadInput unless the cloud accepts this server name for an instance (checked before anything is recorded)."""
        rule, hint = self.naming()
        if not rule.match(server):
            raise BadInput(f"server name {server!r} is not accepted by cloud {self.cloud!r} ({self.name})",
                           hint=f"There a name is {hint}.")

    @abc.abstractmethod
    def launch(self, spec: LaunchSpec, on_created: Callable[[str], None], progress: Progress | None = None) -> Instance:
        """Create and wait until running; call on_created(node_id) as soon as the cloud returns an id.

        The instance carries spec.launch_tags(); a failure at any point (Ctrl-C too) destroys what carries
        spec.token, and nothing else, before it is raised."""

    @abc.abstractmethod
    def destroy(self, node_id: str, extra: Mapping[str, Any] | None = None) -> bool:
        """Destroy the instance and the volumes created for it; idempotent. False when there was nothing."""

    def launched(self, token: str) -> list[str]:
        """Node ids of the live instances carrying this launch token."""
        return [i.node_id for i in self.list_instances() if token and i.launch_token == token]

    def destroy_launched(self, token: str) -> list[str]:
        """Destroy whatever the launch with this token made (an instance whose id was never recorded, e.g. after
        a SIGKILL during create); what was destroyed, [] when there was nothing."""
        return [node_id for node_id in self.launched(token) if self.destroy(node_id)]

    @abc.abstractmethod
    def list_instances(self) -> list[Instance]:
        """Instances this project manages (by tag), as the cloud sees them now."""

    @abc.abstractmethod
    def check(self) -> str:
        """Prove the credentials work; return a one-line description."""


providers: Registry[Provider] = Registry("cloud provider")
providers.register("local", "stackscripts.providers.local_provider:LocalProvider")
providers.register("libcloud", "stackscripts.providers.libcloud_provider:LibcloudProvider")
providers.register("ec2", "stackscripts.providers.ec2:EC2Provider")
