"""git specifics: a corrupt object in the repository, an unreachable server, publishing rules, what a commit may
hold, and URL forms."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.manifest import scan
from stackscripts.sources.base import open_source, split_ref
from stackscripts.sources.cache import Cache
from stackscripts.sources.git import remote_of
from tests.sources.conftest import GitDaemon, free_port, init_bare, snapshot, write_library


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def published(tmp_path: Path) -> tuple[str, Path, Path]:
    repo = init_bare(tmp_path / "base.git")
    folder = write_library(tmp_path / "lib")
    url = f"git+file://{repo}"
    open_source(url, cache=Cache(tmp_path / "publisher")).publish(folder, "1.0", "acme/base")
    return url, repo, folder


def test_a_corrupt_object_in_the_repository_is_refused(tmp_path: Path) -> None:
    url, repo, folder = published(tmp_path)
    oid = git("rev-parse", "v1.0:README.md", cwd=repo)
    loose = repo / "objects" / oid[:2] / oid[2:]
    if not loose.exists():  # packed: unpack so that one object can be changed
        git("repack", "-a", "-d", cwd=repo)
        packs = list((repo / "objects" / "pack").glob("*.pack"))
        for pack in packs:
            pack.rename(pack.with_suffix(".old"))
            subprocess.run(["git", "unpack-objects", "-q"], cwd=repo, stdin=pack.with_suffix(".old").open("rb"),
                           check=True)
    body = b"The acme base library, with a backdoor.\n"
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob %d\0" % len(body) + body))
    cache = Cache(tmp_path / "consumer")
    with pytest.raises(BadInput) as caught:
        open_source(url, cache=cache).fetch("1.0")
    assert str(caught.value).startswith(f"{url}: cannot reach the source:")
    assert "Traceback" not in str(caught.value)
    assert snapshot(cache.root) == {}


def test_an_unreachable_server_names_the_source(tmp_path: Path) -> None:
    url = f"git://127.0.0.1:{free_port()}/nothing.git"
    with pytest.raises(BadInput) as caught:
        open_source(url, cache=Cache(tmp_path / "c")).resolve("head")
    assert str(caught.value).startswith(f"{url}: cannot reach the source:")


def test_a_version_is_published_once(tmp_path: Path) -> None:
    url, repo, folder = published(tmp_path)
    with pytest.raises(BadInput, match=r"version 1.0 is already published \(tag v1.0\)"):
        open_source(url, cache=Cache(tmp_path / "p2")).publish(folder, "1.0")
    assert git("tag", cwd=repo) == "v1.0"


def test_publishing_replaces_the_files_and_keeps_history(tmp_path: Path) -> None:
    url, repo, folder = published(tmp_path)
    (folder / "README.md").unlink()
    done = open_source(url, cache=Cache(tmp_path / "p2")).publish(folder, "1.1", "acme/base")
    assert done.digest == scan(folder).digest
    assert git("ls-tree", "-r", "--name-only", "v1.1", cwd=repo).split() == [
        "attachments/motd.txt", "say-hello.sh", "sub/install-tools.sh"]  # dot files are never part of a tree
    assert git("log", "--format=%s", "main", cwd=repo).split("\n") == ["acme/base 1.1", "acme/base 1.0"]
    assert git("ls-tree", "v1.1", "say-hello.sh", cwd=repo).startswith("100755 ")


def test_a_symbolic_link_in_a_commit_is_refused(tmp_path: Path) -> None:
    repo = init_bare(tmp_path / "r.git")
    work = tmp_path / "work"
    git("clone", "--quiet", str(repo), str(work))
    (work / "a.sh").write_text("echo a\n")
    (work / "b.sh").symlink_to("a.sh")
    git("add", ".", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x", cwd=work)
    git("push", "-q", "origin", "HEAD", cwd=work)
    with pytest.raises(BadInput, match=r"b\.sh is a symbolic link; a library holds regular files only"):
        open_source(f"git+file://{repo}", cache=Cache(tmp_path / "c")).resolve("head")


def test_an_empty_repository_has_no_head(tmp_path: Path) -> None:
    repo = init_bare(tmp_path / "empty.git")
    with pytest.raises(BadInput, match="has no commits"):
        open_source(f"git+file://{repo}", cache=Cache(tmp_path / "c")).resolve("head")
    with pytest.raises(BadInput, match="no version tag"):
        open_source(f"git+file://{repo}", cache=Cache(tmp_path / "c")).resolve("latest")


def test_refs_resolve_to_commits(tmp_path: Path, git_daemon: GitDaemon) -> None:
    repo = init_bare(git_daemon.root / "refs.git")
    folder = write_library(tmp_path / "lib")
    source = open_source(git_daemon.url("refs.git"), cache=Cache(tmp_path / "c"))
    first = source.publish(folder, "1.2")
    (folder / "README.md").write_text("v10\n")
    tenth = source.publish(folder, "1.10")
    fresh = open_source(git_daemon.url("refs.git"), cache=Cache(tmp_path / "c"))
    assert fresh.resolve("latest").resolved_ref == tenth.resolved_ref  # 1.10 > 1.2: versions, not text
    assert fresh.resolve("1.2").resolved_ref == fresh.resolve("v1.2").resolved_ref == first.resolved_ref
    assert fresh.resolve("head").resolved_ref == fresh.resolve("main").resolved_ref == tenth.resolved_ref
    assert fresh.resolve(first.resolved_ref[:10]).digest == first.digest
    assert git("rev-parse", "v1.10^{commit}", cwd=repo) == tenth.resolved_ref


@pytest.mark.parametrize(("spec", "url", "ref"), [
    ("git+https://git.example/acme/base.git@v1.4", "git+https://git.example/acme/base.git", "v1.4"),
    ("git+ssh://git@git.example/acme/base.git", "git+ssh://git@git.example/acme/base.git", ""),
    ("git+ssh://git@git.example/acme/base.git@1.4", "git+ssh://git@git.example/acme/base.git", "1.4"),
    ("git+https://git.example/base.git@feature/x", "git+https://git.example/base.git", "feature/x"),
    ("git://127.0.0.1:9418/base.git@latest", "git://127.0.0.1:9418/base.git", "latest"),
    ("./scripts@head", "./scripts", "head"),
    ("/srv/lib", "/srv/lib", ""),
])
def test_url_and_ref(spec: str, url: str, ref: str) -> None:
    assert split_ref(spec) == (url, ref)


def test_git_urls(tmp_path: Path) -> None:
    assert remote_of("git+https://h/x.git", tmp_path) == "https://h/x.git"
    assert remote_of("git+ssh://git@h/x.git", tmp_path) == "ssh://git@h/x.git"
    assert remote_of("git+file:///srv/x.git", tmp_path) == "/srv/x.git"
    assert remote_of("git+file://rel/x.git", tmp_path) == str(tmp_path / "rel" / "x.git")
    assert remote_of("git://h:9418/x.git", tmp_path) == "git://h:9418/x.git"
    with pytest.raises(BadInput, match=r"no source handles 'ftp://h/x' \(scheme ftp://\)"):
        open_source("ftp://h/x")
