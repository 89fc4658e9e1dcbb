"""The provider contract: launch an instance for a server, list managed instances, destroy them."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import CloudSettings
from ..registry import Registry

Progress = Callable[[str], None]

SERVER_TAG = "stackscripts-server"
TEMPLATE_TAG = "stackscripts-template-sha256"
DEPLOYMENT_TAG = "stackscripts-deployment"


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a provider needs to create one server's instance."""

    server: str
    settings: CloudSettings
    public_key: str  # OpenSSH line authorised for settings.ssh_user
    key_name: str  # a provider-side key pair name (one per deployment)
    tags: Mapping[str, str] = field(default_factory=dict)


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


class Provider(abc.ABC):
    """One cloud account/region. `launch` either returns a running instance or cleans up and raises."""

    name: str = ""

    def __init__(self, cloud: str, config: Mapping[str, Any]) -> None:
        self.cloud = cloud
        self.config = dict(config)

    @abc.abstractmethod
    def launch(self, spec: LaunchSpec, on_created: Callable[[str], None], progress: Progress | None = None) -> Instance:
        """Create and wait until running; call on_created(node_id) as soon as the cloud returns an id."""

    @abc.abstractmethod
    def destroy(self, node_id: str, extra: Mapping[str, Any] | None = None) -> None:
        """Destroy the instance and the volumes created for it; idempotent."""

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
