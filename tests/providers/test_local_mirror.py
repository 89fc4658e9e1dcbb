"""The local cloud's Debian mirror comes from this machine's apt sources (or an override), never a hard-coded one.

Parsing runs on real sources files written into a temporary /etc/apt; one test reads this machine's own sources;
one launches a real instance and reads its /etc/apt/sources.list. No test rebuilds the base image.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.errors import CloudError
from stackscripts.providers.local import mirror
from stackscripts.providers.local.image import SUITE, recipe_digest

TRIXIE_BEHIND_A_CORPORATE_MIRROR = """\
Types: deb
URIs: http://artifacts.corp.example/debian-remote/
Suites: trixie trixie-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://artifacts.corp.example/debian-security-remote
Suites: trixie-security
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_CODENAME=trixie\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n'


def apt_dir(root: Path, files: dict[str, str]) -> Path:
    etc = root / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (etc / name).write_text(text)
    return etc


def os_release(root: Path, text: str) -> Path:
    path = root / "os-release"
    path.write_text(text)
    return path


def test_a_host_of_another_release_lends_its_mirror(tmp_path: Path) -> None:
    """A trixie host behind a corporate mirror: bookworm comes from that mirror, not from deb.debian.org."""
    etc = apt_dir(tmp_path, {"sources.list.d/debian.sources": TRIXIE_BEHIND_A_CORPORATE_MIRROR})
    choice = mirror.choose("bookworm", etc=etc, os_release=os_release(tmp_path, DEBIAN), env={})
    assert choice.mirror == "http://artifacts.corp.example/debian-remote"
    assert choice.security == "http://artifacts.corp.example/debian-security-remote"
    assert choice.origin == str(etc / "sources.list.d/debian.sources")
    assert choice.sources_list("bookworm").splitlines()[1:] == [
        "deb http://artifacts.corp.example/debian-remote bookworm main non-free-firmware",
        "deb http://artifacts.corp.example/debian-remote bookworm-updates main non-free-firmware",
        "deb http://artifacts.corp.example/debian-security-remote bookworm-security main non-free-firmware",
    ]
    assert "deb.debian.org" not in choice.sources_list("bookworm")


def test_a_third_party_repository_naming_the_suite_is_not_the_mirror(tmp_path: Path) -> None:
    etc = apt_dir(tmp_path, {
        "sources.list": "",
        "sources.list.d/aaa-php.list": "deb [signed-by=/usr/share/keyrings/php.gpg] https://packages.php.example/php/ "
                                       "bookworm main\n",
        "sources.list.d/docker.list": "deb https://download.docker.example/linux/debian bookworm stable\n",
        "sources.list.d/mirror.list": "deb http://ftp.corp.example/debian bookworm main contrib\n",
    })  # fmt: skip
    choice = mirror.choose("bookworm", etc=etc, os_release=os_release(tmp_path, DEBIAN), env={})
    assert choice.mirror == "http://ftp.corp.example/debian"
    assert choice.components == ("main", "contrib")
    assert choice.security is None  # the host uses none: the instances get none either
    assert "security" not in choice.sources_list("bookworm")


def test_unusable_uris_and_other_distributions_are_skipped(tmp_path: Path) -> None:
    etc = apt_dir(tmp_path, {
        "sources.list": "deb cdrom:[Debian 12]/ bookworm main\n"
                        "deb mirror+file:/etc/apt/mirrors.txt bookworm main\n"
                        "deb http://archive.ubuntu.example/ubuntu jammy main universe\n",
    })  # fmt: skip
    ubuntu = mirror.choose("bookworm", etc=etc, os_release=os_release(tmp_path, UBUNTU), env={})
    assert ubuntu.mirror == mirror.DEFAULT_MIRROR  # an Ubuntu mirror does not serve Debian
    assert ubuntu.security == mirror.DEFAULT_SECURITY
    assert "no Debian source" in ubuntu.origin


def test_the_override_wins_and_a_bad_one_is_a_clear_error(tmp_path: Path) -> None:
    etc = apt_dir(tmp_path, {"sources.list.d/debian.sources": TRIXIE_BEHIND_A_CORPORATE_MIRROR})
    release = os_release(tmp_path, DEBIAN)
    env = {mirror.MIRROR_ENV: "http://cache.lan:3142/deb.debian.org/debian/"}
    choice = mirror.choose("bookworm", etc=etc, os_release=release, env=env)
    assert (choice.mirror, choice.origin) == ("http://cache.lan:3142/deb.debian.org/debian", mirror.MIRROR_ENV)
    assert choice.security == "http://artifacts.corp.example/debian-security-remote"
    with pytest.raises(CloudError) as caught:
        mirror.choose("bookworm", etc=etc, os_release=release, env={mirror.MIRROR_ENV: "cache.lan/debian"})
    assert mirror.MIRROR_ENV in str(caught.value) and "http://mirror.example/debian" in str(caught.value)


def test_this_machines_own_sources() -> None:
    """On this host the choice is whatever its own apt sources name (the same code path as an image build)."""
    entries = [e for _path, e in mirror.host_sources()]
    choice = mirror.choose(SUITE, env={})
    if any(e.suite == mirror.host_codename() for e in entries):
        assert choice.mirror in {e.uri for e in entries}
        assert choice.origin.startswith("/etc/apt/")
    else:
        assert choice.mirror == mirror.DEFAULT_MIRROR


def test_the_mirror_is_not_part_of_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decided: another mirror serves the same packages, and instances get their sources at creation, so
    changing the mirror must not force a rebuild of the cached base image."""
    before = recipe_digest()
    monkeypatch.setenv(mirror.MIRROR_ENV, "http://elsewhere.example/debian")
    assert recipe_digest() == before
    assert recipe_digest("trixie") != before


def test_an_instance_gets_the_current_mirror_not_the_build_one(
    launch, key_pair, ssh_connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(mirror.MIRROR_ENV, "http://apt.corp.example/debian")
    node = launch("mirror")
    ssh = ssh_connect(node.extra["ssh_port"], key_pair.pkey())
    sources = ssh.check("cat /etc/apt/sources.list")
    ssh.client.close()
    assert f"from {mirror.MIRROR_ENV}" in sources
    assert "deb http://apt.corp.example/debian bookworm main" in sources
    assert "deb http://apt.corp.example/debian bookworm-updates main" in sources
    assert "deb.debian.org/debian " not in sources
