"""The flagship's first two steps on a local instance: install Docker, then move it onto a btrfs ephemeral drive."""

from __future__ import annotations

import pytest

INSTALL = (
    "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq"
    " && apt-get install -y -qq --no-install-recommends docker.io >/tmp/apt.log 2>&1"
    " || { tail -30 /tmp/apt.log; exit 1; }"
)
WAIT_DOCKER = (
    "for i in $(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 0.5; done;"
    " tail -20 /var/log/docker.log /var/log/dockerd-btrfs.log 2>/dev/null; exit 1"
)
STOP_DOCKER = (
    "service docker stop >/dev/null 2>&1; pkill dockerd;"
    " for i in $(seq 40); do pgrep -x dockerd >/dev/null || exit 0; sleep 0.5; done; exit 1"
)
# A one-binary image made from the instance's own dash and libc: no registry is needed to run a container.
MINI_IMAGE = (
    "tar -ch $(ldd /bin/dash | grep -o '/[^ ]*') /bin/dash 2>/dev/null | docker import - mini:1 >/dev/null"
)


@pytest.mark.timeout(600)
def test_docker_installs_survives_reboot_then_moves_to_btrfs(local_driver, launch, key_pair, ssh_connect) -> None:
    node = launch("dind", volumes=[{"name": "ephemeral0", "size_gb": 8}], size="medium")
    ssh = ssh_connect(node.extra["ssh_port"], key_pair.pkey())

    # 1. A plain package install starts the engine (runlevel record), on the instance's /var/lib/docker volume.
    ssh.check(INSTALL, timeout=400)
    ssh.check(WAIT_DOCKER)
    assert ssh.check("docker info --format '{{.Driver}}'").strip() == "overlay2"
    ssh.check(MINI_IMAGE)
    assert ssh.check("docker run --rm mini:1 /bin/dash -c 'echo hello from inside'").strip() == "hello from inside"

    # 2. After a reboot the engine is started again (its rc2.d link) and its images are still there.
    ssh.client.close()
    local_driver.reboot_node(node)
    ssh = ssh_connect(local_driver.ex_get_node(node.name).extra["ssh_port"], key_pair.pkey())
    ssh.check(WAIT_DOCKER)
    assert "mini" in ssh.check("docker images --format '{{.Repository}}'")

    # 3. Format the ephemeral drive with btrfs and move Docker onto it.
    ssh.check(STOP_DOCKER)
    ssh.check("mkfs.btrfs -f /dev/xvdb >/dev/null && mkdir -p /mnt && mount /dev/xvdb /mnt")
    ssh.check(
        "(setsid dockerd --data-root /mnt/docker --storage-driver btrfs >/var/log/dockerd-btrfs.log 2>&1 &) ; true"
    )
    ssh.check(WAIT_DOCKER)
    assert ssh.check("docker info --format '{{.Driver}} {{.DockerRootDir}}'").split() == ["btrfs", "/mnt/docker"]
    ssh.check(MINI_IMAGE)
    assert ssh.check("docker run --rm mini:1 /bin/dash -c 'echo on btrfs'").strip() == "on btrfs"
    ssh.check("btrfs subvolume list /mnt | grep -q docker/btrfs/subvolumes")
    ssh.client.close()
