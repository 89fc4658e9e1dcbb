"""Real sources for the contract suite: a folder, a bare git repository as a git+file:// path, the same kind
of repository served by a real `git daemon` on a free loopback port (pushes allowed, as a team's server), a
bucket on a moto S3 server (tests/sources/s3_parts.py) and Debian's docker-registry on loopback
(tests/sources/oci_parts.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackscripts.revisions.manifest import scan
from stackscripts.sources.base import Source, open_source
from stackscripts.sources.cache import Cache
from tests.sources.oci_parts import oci_library_url, oci_registry, repoint_oci  # noqa: F401 (fixtures)
from tests.sources.s3_parts import repoint_s3, s3_library_url  # noqa: F401 (fixtures)
from tests.support.parts import require, require_binary
from tests.support.procs import stop
from tests.support.rightscripts import write_rightscript

KINDS = ("folder", "git-file", "git-daemon", "s3", "oci")


@dataclass
class GitDaemon:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_daemon(root: Path) -> GitDaemon:
    """`git daemon` serving every repository under root (reads and pushes), on 127.0.0.1 only."""
    git = require_binary("git")
    exec_path = subprocess.run([git, "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()
    require(os.path.exists(os.path.join(exec_path, "git-daemon")), "git daemon (Debian's git package)")
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen([git, "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
                                    f"--base-path={root}", "--listen=127.0.0.1", f"--port={port}", str(root)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return GitDaemon(root, port, process)
            except OSError:
                time.sleep(0.05)
        process.kill()
        process.wait()
    raise RuntimeError("git daemon did not start")


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    daemon = start_daemon(tmp_path_factory.mktemp("git-served"))
    try:
        yield daemon
    finally:
        stop(daemon.process)


def init_bare(path: Path) -> Path:
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)], check=True)
    return path


def write_library(folder: Path, greeting: str = "hello") -> Path:
    """A small library: two scripts (one executable), an attachment, a README and a dot file (not in the tree)."""
    write_rightscript(folder, "Say Hello", f'echo "{greeting} $WHO"\n', inputs={"WHO": "text:world"},
                      attachments={"motd.txt": f"{greeting}\n"})
    write_rightscript(folder / "sub", "Install Tools", "apt-get install -y jq\n", inputs={})
    (folder / "say-hello.sh").chmod(0o755)
    (folder / "README.md").write_text("The acme base library.\n")
    (folder / ".gitignore").write_text("*.swp\n")
    return folder


@dataclass
class Library:
    """One library behind one kind of source: `publish` makes the folder's content a version (a folder source
    serves the folder itself), `ref` is how to ask for that version."""

    kind: str
    url: str
    folder: Path
    cache: Cache

    def source(self, cache: Cache | None = None) -> Source:
        return open_source(self.url, cache=cache or self.cache)

    def publish(self, version: str) -> str:
        if self.kind == "folder":
            return scan(self.folder).digest
        return self.source().publish(self.folder, version, "acme/base").digest

    def ref(self, version: str) -> str:
        return "head" if self.kind == "folder" else version

    def repoint(self, version: str, other: str) -> None:
        """Make published `version` serve `other`'s content (a moved tag, a replaced artifact: tampering)."""
        if self.kind.startswith("git"):
            retag(self, f"v{version}", self.source().resolve(other).resolved_ref)
        elif self.kind == "s3":
            repoint_s3(self.url, version, other)
        elif self.kind == "oci":
            repoint_oci(self.url, version, other)
        else:
            raise AssertionError(f"a {self.kind} library has no versions")


def retag(library: Library, tag: str, commit: str) -> None:
    """Force-move a tag in the served repository (what a compromised or careless publisher could do)."""
    from stackscripts.sources.git import remote_of

    work = library.folder.parent / "retag"
    subprocess.run(["git", "clone", "--quiet", remote_of(library.url, Path.cwd()), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "tag", "--force", tag, commit], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(work), "push", "--quiet", "--force", "origin", f"refs/tags/{tag}"], check=True)


@pytest.fixture(params=KINDS)
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Library:
    kind = request.param
    folder = write_library(tmp_path / "publisher" / "lib")
    cache = Cache(tmp_path / "publisher-cache")
    if kind == "folder":
        return Library(kind, str(folder), folder, cache)
    if kind == "git-file":
        return Library(kind, f"git+file://{init_bare(tmp_path / 'acme-base.git')}", folder, cache)
    if kind == "s3":
        return Library(kind, request.getfixturevalue("s3_library_url"), folder, cache)
    if kind == "oci":
        return Library(kind, request.getfixturevalue("oci_library_url"), folder, cache)
    daemon: GitDaemon = request.getfixturevalue("git_daemon")
    name = f"{tmp_path.name}.git"
    init_bare(daemon.root / name)
    return Library(kind, daemon.url(name), folder, cache)


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root with its mode and bytes (folders: None): to prove a cache unchanged."""
    if not root.exists():
        return {}
    out: dict[str, tuple[int, bytes | None]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("git/", "tmp/")) or rel in ("git", "tmp"):
            continue  # a source's working state and staging, not the content-addressed store
        mode = path.lstat().st_mode
        out[rel] = (mode, None if path.is_dir() else path.read_bytes())
    return out
