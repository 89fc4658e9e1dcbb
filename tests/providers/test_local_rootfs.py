"""The base image recipe, without Docker: apt sources parsing, mirror choice, the init script, device names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stackscripts.providers.local import devices, rootfs
from stackscripts.providers.local.image import recipe_digest
from tests.support.cli import cli_env

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
"""


def test_deb822_keeps_only_enabled_debian_entries(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    cloud = "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
    (tmp_path / "sources.list.d" / "cloud.list").write_text(cloud)
    entries = rootfs.host_debian_sources("bookworm", tmp_path)
    assert [e.line() for e in entries] == [
        "deb http://mirror.example/debian bookworm main contrib",
        "deb http://mirror.example/debian bookworm-updates main contrib",
        "deb http://security.example/debian-security bookworm-security main",
    ]
    assert rootfs.pick_mirror(entries) == "http://mirror.example/debian"


def test_one_line_sources_with_options_and_comments(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.example/debian bookworm main # trailing\n"
        "deb-src http://ftp.example/debian bookworm main\n"
        "deb http://security.example/debian-security bookworm-security main\n"
        "deb http://ftp.example/debian bullseye main\n"
    )
    entries = rootfs.host_debian_sources("bookworm", tmp_path)
    assert [e.line() for e in entries] == [
        "deb http://ftp.example/debian bookworm main",
        "deb http://security.example/debian-security bookworm-security main",
    ]
    assert rootfs.pick_mirror(entries) == "http://ftp.example/debian"


def test_no_debian_sources_falls_back_to_deb_debian_org(tmp_path: Path) -> None:
    assert rootfs.host_debian_sources("bookworm", tmp_path) == []
    assert rootfs.pick_mirror([]) == "http://deb.debian.org/debian"
    lines = [e.line() for e in rootfs.default_sources("bookworm", rootfs.DEFAULT_MIRROR)]
    assert lines[0] == "deb http://deb.debian.org/debian bookworm main"
    assert any("bookworm-security" in line for line in lines)


def test_init_script_is_valid_sh_and_regenerates_host_keys(tmp_path: Path) -> None:
    script = tmp_path / "init"
    script.write_text(rootfs.INIT_SCRIPT)
    subprocess.run(["sh", "-n", str(script)], check=True)
    assert "ssh-keygen -A" in rootfs.INIT_SCRIPT
    assert rootfs.INIT_SCRIPT.rstrip().endswith("exec /usr/sbin/sshd -D -e")
    assert "PermitRootLogin prohibit-password" in rootfs.SSHD_CONFIG
    assert "PasswordAuthentication no" in rootfs.SSHD_CONFIG


def test_configure_removes_host_keys_and_writes_sources(tmp_path: Path) -> None:
    for folder in ("etc/apt", "etc/ssh", "etc/pam.d", "usr/local/sbin", "root", "var/cache/apt/archives",
                   "var/lib/apt/lists", "var/log"):  # fmt: skip
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "etc/ssh/ssh_host_ed25519_key").write_text("secret")
    (tmp_path / "etc/pam.d/sshd").write_text("session    required     pam_loginuid.so\n")
    (tmp_path / "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease").write_text("x")
    rootfs.configure(tmp_path, rootfs.default_sources("bookworm", "http://m.example/debian"))
    assert not list((tmp_path / "etc/ssh").glob("ssh_host_*"))
    assert (tmp_path / "etc/apt/sources.list").read_text().count("deb ") == 3
    assert "optional pam_loginuid.so" in (tmp_path / "etc/pam.d/sshd").read_text()
    assert (tmp_path / rootfs.INIT_PATH.lstrip("/")).stat().st_mode & 0o111
    assert not list((tmp_path / "var/lib/apt/lists").iterdir())


def test_recipe_digest_is_the_same_in_every_process() -> None:
    """A cached image is reused by later processes only if they compute the same digest (no hash seed, no
    set order, no address may leak into it)."""
    mine = recipe_digest()
    assert re.fullmatch(r"[0-9a-f]{16}", mine)
    code = "from stackscripts.providers.local.image import recipe_digest; print(recipe_digest())"
    for seed in ("0", "1", "12345"):
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env=cli_env({"PYTHONHASHSEED": seed})).stdout.strip()
        assert other == mine, f"PYTHONHASHSEED={seed}"


@pytest.mark.parametrize("ingredient", ["suite", "PACKAGES", "INIT_SCRIPT", "SSHD_CONFIG", "ULIMIT_HOOK"])
def test_recipe_digest_changes_with_each_ingredient(ingredient: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from stackscripts.providers.local import image

    before = recipe_digest()
    if ingredient == "suite":
        assert recipe_digest("trixie") != before
        return
    if ingredient == "PACKAGES":
        monkeypatch.setattr(image, "PACKAGES", (*image.PACKAGES, "vim-tiny"))
    else:
        monkeypatch.setattr(rootfs, ingredient, getattr(rootfs, ingredient) + "\n# changed\n")
    assert recipe_digest() != before


def test_device_names_skip_taken() -> None:
    assert devices.device_names(3) == ["/dev/xvdb", "/dev/xvdc", "/dev/xvdd"]
    assert devices.device_names(2, {"/dev/xvdb"}) == ["/dev/xvdc", "/dev/xvdd"]
