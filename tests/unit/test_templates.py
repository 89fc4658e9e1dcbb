"""ServerTemplate YAML: right_st keys, three phases, step entries, MultiCloudImages with Settings."""

from __future__ import annotations

import hashlib

from stackscripts.model import Phase
from stackscripts.templates import load_template
from tests.unit.helpers import line_of

TEMPLATE = """\
Name: All-in-one Docker
Description: |
  Docker engine plus the off-the-shelf containers.
Inputs:
  DOCKER_PACKAGE: text:docker-ce
  REGISTRY_PASSWORD: cred:REGISTRY
  ZK_HOSTS: array:["env:zk1:PRIVATE_IP","text:10.0.0.9"]
RightScripts:
  Boot:
  - ../scripts/install-docker.sh
  - Script: ../scripts/setup-btrfs.sh
    Timeout: 600
    Retries: 2
    Stage: Prep VM environment
  - Name: Launch Containers
    Revision: 4
    Publisher: RightScale
  - core/Launch Apps
  Operational:
  - Script: ../scripts/restart.sh
    Timeout: 1.5
  Decommission: []
MultiCloudImages:
- Name: Debian 12
  Revision: 3
  Description: The default image.
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    SSH User: root
  - Cloud: ec2 us-east-1
    Image: ami-0123456789abcdef0
    Instance Type: m5.large
    SSH User: admin
    Volumes:
    - {Name: data, Size: 100, Device: /dev/xvdb}
    - Name: scratch
      Size: 20
      Ephemeral: false
- Name: Ubuntu 24.04
Alerts:
- Name: cpu busy
  Condition: '>'
  Threshold: 90
"""


def load(write, text: str = TEMPLATE):
    return load_template(write("servertemplates/t.yaml", text))


def test_top_level(write) -> None:
    path = write("servertemplates/t.yaml", TEMPLATE)
    template = load_template(path)
    assert template.name == "All-in-one Docker"
    assert template.description == "Docker engine plus the off-the-shelf containers.\n"
    assert template.path == path
    assert template.sha256 == hashlib.sha256(TEMPLATE.encode()).hexdigest()


def test_inputs_are_kept_raw_with_their_lines(write) -> None:
    template = load(write)
    assert dict(template.inputs) == {
        "DOCKER_PACKAGE": "text:docker-ce", "REGISTRY_PASSWORD": "cred:REGISTRY",
        "ZK_HOSTS": 'array:["env:zk1:PRIVATE_IP","text:10.0.0.9"]'}
    assert template.input_lines["REGISTRY_PASSWORD"] == line_of(TEMPLATE, "REGISTRY_PASSWORD")


def test_three_phases_and_every_step_form(write) -> None:
    template = load(write)
    boot = template.steps(Phase.BOOT)
    assert [s.ref for s in boot] == ["../scripts/install-docker.sh", "../scripts/setup-btrfs.sh",
                                     "Launch Containers", "core/Launch Apps"]
    assert [s.line for s in boot] == [line_of(TEMPLATE, "install-docker"), line_of(TEMPLATE, "setup-btrfs"),
                                      line_of(TEMPLATE, "Launch Containers"), line_of(TEMPLATE, "core/Launch")]
    assert (boot[0].timeout, boot[0].retries, boot[0].revision) == (None, 0, None)
    assert (boot[1].timeout, boot[1].retries, boot[1].stage) == (600.0, 2, "Prep VM environment")
    assert boot[0].stage is None
    assert boot[2].revision == "4"
    (restart,) = template.steps(Phase.OPERATIONAL)
    assert restart.timeout == 1.5
    assert template.steps(Phase.DECOMMISSION) == ()


def test_missing_phases_are_empty(write) -> None:
    template = load(write, "Name: Bare\n")
    assert all(template.steps(phase) == () for phase in Phase)
    assert (template.images, template.alerts, dict(template.inputs)) == ((), (), {})
    assert load(write, "Name: Bare\nRightScripts:\n  Boot:\n").steps(Phase.BOOT) == ()


def test_multicloud_images_with_settings(write) -> None:
    debian, ubuntu = load(write).images
    assert (debian.name, debian.revision, debian.description) == ("Debian 12", "3", "The default image.")
    local, ec2 = debian.settings
    assert (local.cloud, local.region, local.image, local.ssh_user, local.instance_type) == (
        "local", None, "stackscripts/debian:bookworm", "root", None)
    assert (ec2.cloud, ec2.region, ec2.image, ec2.instance_type, ec2.ssh_user) == (
        "ec2", "us-east-1", "ami-0123456789abcdef0", "m5.large", "admin")
    data, scratch = ec2.volumes
    assert (data.name, data.size_gb, data.device, data.ephemeral) == ("data", 100, "/dev/xvdb", True)
    assert (scratch.name, scratch.size_gb, scratch.device, scratch.ephemeral) == ("scratch", 20, None, False)
    assert debian.for_cloud("ec2") is ec2 and debian.for_cloud("gce") is None
    assert (ubuntu.name, ubuntu.settings) == ("Ubuntu 24.04", ())


def test_ssh_user_defaults_to_root(write) -> None:
    text = "Name: T\nMultiCloudImages:\n- Name: I\n  Settings:\n  - {Cloud: LOCAL, Image: img}\n"
    (setting,) = load(write, text).images[0].settings
    assert (setting.cloud, setting.ssh_user) == ("local", "root")


def test_alerts_are_kept(write) -> None:
    (alert,) = load(write).alerts
    assert alert == {"Name": "cpu busy", "Condition": ">", "Threshold": 90}
