"""The generic libcloud adapter passes the SSH key and tags the way each real driver class takes them."""

from __future__ import annotations

import pytest
from libcloud.compute.drivers.dummy import DummyNodeDriver
from libcloud.compute.drivers.gce import GCENodeDriver
from libcloud.compute.drivers.openstack import OpenStack_1_1_NodeDriver

from stackscripts.errors import CloudError
from stackscripts.model import CloudSettings
from stackscripts.providers.base import SERVER_TAG, LaunchSpec
from stackscripts.providers.libcloud_provider import LibcloudProvider, key_method, node_tags

SPEC = LaunchSpec(server="web1", settings=CloudSettings(cloud="dummy", image="img-1", instance_type="m1.small",
                                                         ssh_user="debian"),
                  public_key="ssh-ed25519 AAAAC3Nza test", key_name="deployment-demo", tags={SERVER_TAG: "web1"})


@pytest.mark.parametrize(("driver", "expected"), [
    (OpenStack_1_1_NodeDriver, ("keypair", True)),  # imported key pair, tags as server metadata
    (GCENodeDriver, ("metadata", True)),  # "ssh-keys" metadata
])
def test_key_method_of_real_driver_classes(driver: type, expected: tuple[str, bool]) -> None:
    assert key_method(driver.create_node) == expected


def test_a_driver_without_any_key_parameter_is_refused_clearly() -> None:
    p = LibcloudProvider("dummy", {"driver": "dummy"})
    p._driver = DummyNodeDriver(0)
    with pytest.raises(CloudError, match="takes no SSH key"):
        p.create_kwargs(SPEC, None)


@pytest.mark.parametrize("extra", [
    {"tags": {SERVER_TAG: "web1"}},
    {"metadata": {"items": [{"key": SERVER_TAG, "value": "web1"}]}},  # GCE's shape
    {"labels": {SERVER_TAG: "web1"}},
])
def test_node_tags_in_every_shape(extra: dict) -> None:
    node = type("Node", (), {"extra": extra})()
    assert node_tags(node)[SERVER_TAG] == "web1"
