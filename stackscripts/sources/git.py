"""git as a source, through the `git` command (no Python git library).

URLs: `git+file:///srv/git/base.git`, `git+ssh://git@host/acme/base.git`, `git+https://host/acme/base.git`,
`git+http://...` and `git://host:9418/acme/base.git`. The repository is mirrored into the cache
(`git/<key>.git`, `git clone --mirror`, then `git fetch` once per use) with `transfer.fsckObjects`, so git
checks every object it receives: a corrupt object in the repository refuses the fetch.

Refs: `head` (or "": the default branch's tip), `latest` (the highest version tag `vX.Y.Z`), a version `1.4`
(tag `v1.4`, else tag `1.4`), a tag, a branch, or a commit id. A ref resolves to a commit; the commit's files
(regular files only; names starting with '.' left out, as everywhere) to a manifest and its digest.
Publishing commits a folder's files on the default branch and tags the commit `vVERSION`, in one atomic push.
A signature (`publish(..., signature=)`) goes in the same push as a blob under `refs/signatures/sha256-<hex>`,
the revision digest's hex: outside every tree, so it never changes what it signs, and mirrored with the rest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..revisions.manifest import Entry, Manifest, path_problem, scan
from ..revisions.refs import VERSION
from .base import Published, Resolved, Source
from .cache import Cache

TIMEOUT = 300.0
_VERSION_TAG = re.compile(r"v?(\d+(?:\.\d+)*)")
_HEXREF = re.compile(r"[0-9a-f]{7,40}")
_MODES = {"100644": 0o644, "100755": 0o755, "100664": 0o644}


def signature_ref(digest: str) -> str:
    return "refs/signatures/" + digest.replace(":", "-")


def git_env() -> dict[str, str]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_CONFIG_NOSYSTEM="1")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def remote_of(url: str, base: Path) -> str:
    """The URL git understands: git+https://h/x -> https://h/x, git+file:///p -> /p (relative: against base)."""
    if url.startswith("git+file://"):
        path = Path(url[len("git+file://"):])
        return str(path if path.is_absolute() else base / path)
    return url[len("git+"):] if url.startswith("git+") else url


class GitSource(Source):
    name = "git"

    def __init__(self, url: str, *, base: Path | None = None, cache: Cache | None = None) -> None:
        super().__init__(url, base=base, cache=cache)
        self._mirror: Path | None = None
        self._manifests: dict[str, Manifest] = {}  # commit -> manifest
        self._oids: dict[str, dict[str, str]] = {}  # commit -> path -> git object id

    def _run(self, *args: str, cwd: Path | None = None, stdin: bytes | None = None,
             what: str = "git failed") -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, env=git_env(),
                                  timeout=TIMEOUT, check=False)
        except FileNotFoundError:
            raise self.bad("the git command is not installed", hint="Install git (apt-get install git).") from None
        except subprocess.TimeoutExpired:
            raise self.bad(f"{what}: git took more than {TIMEOUT:.0f}s", hint="Check the network and the URL.") from None

    def _git(self, *args: str, cwd: Path | None = None, stdin: bytes | None = None,
             what: str = "git failed") -> bytes:
        done = self._run(*args, cwd=cwd, stdin=stdin, what=what)
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
            raise self.bad(f"{what}: {' / '.join(lines[-3:]) or f'exit code {done.returncode}'}",
                           hint="Check the URL, that the server is up, and your access to the repository.")
        return done.stdout

    def repo(self) -> Path:
        """The mirror of the repository in the cache, fetched once per Source."""
        if self._mirror is not None:
            return self._mirror
        remote = remote_of(self.url, self.base)
        mirror = self.cache.work_dir("git") / (hashlib.sha256(remote.encode()).hexdigest()[:24] + ".git")
        if not (mirror / "HEAD").is_file():
            with tempfile.TemporaryDirectory(dir=self.cache.work_dir("tmp")) as tmp:
                self._git("-c", "transfer.fsckObjects=true", "clone", "--mirror", "--no-local", "--quiet",
                          remote, f"{tmp}/repo.git", what="cannot reach the source")
                try:
                    os.rename(f"{tmp}/repo.git", mirror)
                except OSError:
                    if not (mirror / "HEAD").is_file():
                        raise
        else:
            self._git("-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--prune", "--force", "--tags", "origin",
                      cwd=mirror, what="cannot reach the source")
            head = self._git("ls-remote", "--symref", "origin", "HEAD", cwd=mirror, what="cannot reach the source")
            match = re.match(rb"ref: (refs/heads/\S+)\tHEAD", head)
            if match:
                self._git("symbolic-ref", "HEAD", match.group(1).decode(), cwd=mirror)
        self._mirror = mirror
        return mirror

    def _commit(self, rev: str) -> str | None:
        done = self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=self.repo())
        return done.stdout.decode().strip() or None if done.returncode == 0 else None

    def tags(self) -> list[str]:
        out = self._git("for-each-ref", "--format=%(refname:short)", "refs/tags", cwd=self.repo())
        return out.decode().split()

    def resolve(self, ref: str) -> Resolved:
        commit = self._resolve_commit(ref)
        return Resolved(self.url, ref, commit, self._manifest(commit).digest)

    def _resolve_commit(self, ref: str) -> str:
        if ref in ("", "head", "HEAD"):
            commit = self._commit("HEAD")
            if commit is None:
                raise self.bad("the repository has no commits on its default branch",
                               hint="Publish a version first (stackscripts libraries publish).")
            return commit
        if ref == "latest":
            versions = [(tuple(int(n) for n in m.group(1).split(".")), t) for t in self.tags()
                        if (m := _VERSION_TAG.fullmatch(t))]
            if not versions:
                raise self.bad("unknown ref 'latest': the repository has no version tag (vX.Y.Z)",
                               hint="Publish a version (stackscripts libraries publish DIR --version 1.0 ...), or use @head.")
            return self._commit(f"refs/tags/{max(versions)[1]}") or ""
        candidates = [f"refs/tags/v{ref}", f"refs/tags/{ref}", f"refs/heads/{ref}"]
        if _HEXREF.fullmatch(ref):
            candidates.append(ref)
        for candidate in candidates:
            commit = self._commit(candidate)
            if commit:
                return commit
        tags = self.tags()
        branches = self._git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=self.repo()).decode().split()
        raise self.bad(f"unknown ref {ref!r} (no tag v{ref} or {ref}, branch or commit)",
                       hint=f"Tags: {', '.join(tags[-10:]) or 'none'}; branches: {', '.join(branches) or 'none'}.")

    def _tree(self, commit: str) -> list[tuple[str, int, str, int]]:
        """(path, mode, git object id, size) of each file of the commit."""
        out = self._git("ls-tree", "-r", "-z", "-l", "--full-tree", commit, cwd=self.repo())
        files = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, oid, size = meta.decode().split()
            try:
                path = raw_path.decode("utf-8")
            except UnicodeDecodeError:
                raise self.bad(f"commit {commit[:12]} has a file name that is not UTF-8: {raw_path!r}") from None
            if any(part.startswith(".") for part in path.split("/")):
                continue
            if kind != "blob" or mode not in _MODES:
                what = {"120000": "a symbolic link", "160000": "a submodule"}.get(mode, f"mode {mode}")
                raise self.bad(f"commit {commit[:12]}: {path} is {what}; a library holds regular files only",
                               hint="Replace it with a regular file and publish again.")
            problem = path_problem(path)
            if problem:
                raise self.bad(f"commit {commit[:12]}: {path!r}: {problem}")
            files.append((path, _MODES[mode], oid, int(size)))
        return files

    def _cat(self, oids: Sequence[str]) -> Iterator[bytes]:
        """The bytes of git objects, in order (one `git cat-file --batch`)."""
        out = self._git("cat-file", "--batch", cwd=self.repo(), stdin="".join(f"{o}\n" for o in oids).encode())
        at = 0
        for _ in oids:
            end = out.index(b"\n", at)
            size = int(out[at:end].split()[2])
            yield out[end + 1: end + 1 + size]
            at = end + 2 + size

    def _manifest(self, commit: str) -> Manifest:
        if commit not in self._manifests:
            files = self._tree(commit)
            self._oids[commit] = {p: oid for p, _, oid, _ in files}
            entries = [Entry(path, mode, hashlib.sha256(data).hexdigest(), len(data))
                       for (path, mode, _, _), data in zip(files, self._cat([f[2] for f in files]), strict=True)]
            self._manifests[commit] = Manifest.of(entries)
        return self._manifests[commit]

    def manifest(self, resolved: Resolved) -> Manifest:
        return self._manifest(resolved.resolved_ref)

    def blobs(self, resolved: Resolved, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        self._manifest(resolved.resolved_ref)
        oids = self._oids[resolved.resolved_ref]
        yield from zip(entries, self._cat([oids[e.path] for e in entries]), strict=True)

    def pinned_ref(self, resolved_ref: str, digest: str) -> str:
        return resolved_ref  # the commit: a moved tag cannot change it

    def signature(self, resolved: Resolved) -> str | None:
        ref = signature_ref(resolved.digest)
        done = self._run("cat-file", "blob", ref, cwd=self.repo())
        return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None

    def publish(self, folder: Path, version: str, name: str | None = None,
                signature: str | None = None) -> Published:
        if not VERSION.fullmatch(version) or version in ("latest", "head"):
            raise self.bad(f"{version!r} is not a version to publish",
                           hint="Write a version such as 1.4 (tagged v1.4).")
        manifest = scan(folder)
        tag = f"v{version}"
        with tempfile.TemporaryDirectory(dir=self.cache.work_dir("tmp")) as tmp:
            work = Path(tmp) / "work"
            self._git("clone", "--quiet", "--no-local", remote_of(self.url, self.base), str(work),
                      what="cannot reach the source")
            if self._git("tag", "--list", tag, cwd=work).strip():
                raise self.bad(f"version {version} is already published (tag {tag}); a version never changes",
                               hint="Publish a new version number.")
            for child in work.iterdir():
                if not child.name.startswith("."):
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            for entry in manifest.entries:
                target = work / entry.path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / entry.path, target)
                target.chmod(entry.mode)
            known = self._run("config", "--get", "user.email", cwd=work).stdout.strip()
            who = [] if known else ["-c", "user.name=stackscripts", "-c", "user.email=stackscripts@localhost"]
            message = f"{name or 'library'} {version}"
            self._git("add", "--all", ".", cwd=work)
            self._git(*who, "commit", "--quiet", "--allow-empty", "-m", message, cwd=work)
            self._git(*who, "tag", "-a", tag, "-m", message, cwd=work)
            branch = self._git("symbolic-ref", "--short", "HEAD", cwd=work).decode().strip()
            refs = [f"HEAD:refs/heads/{branch}", f"refs/tags/{tag}"]
            if signature:
                blob = self._git("hash-object", "-w", "--stdin", cwd=work, stdin=signature.encode()).decode().strip()
                refs.append(f"+{blob}:{signature_ref(manifest.digest)}")
            self._git("push", "--quiet", "--atomic", "origin", *refs, cwd=work, what="cannot publish (push)")
            commit = self._git("rev-parse", "HEAD", cwd=work).decode().strip()
        self._mirror = None
        published = self.resolve(tag)
        if published.digest != manifest.digest or published.resolved_ref != commit:
            raise self.bad(f"the pushed commit {commit[:12]} is {published.digest}, not the folder's {manifest.digest}",
                           hint="Check the repository's hooks and filters (attributes that rewrite files).")
        return Published(self.url, version, commit, manifest.digest)

