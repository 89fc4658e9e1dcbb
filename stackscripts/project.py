"""The project file, `stackscripts.yaml`: found by walking up from the working folder, as git finds `.git`.

A team commits it once; it names the project's libraries with their sources, who may sign them (`trust`), and
the defaults of every command: the store (after --db and $STACKSCRIPTS_DB), the cloud (after --cloud) and the
credential backends (after $STACKSCRIPTS_CRED_BACKENDS). Validated strictly: an unknown key or a bad value is
BadInput naming the file and line (`api.libraries.project` also checks each source's URL scheme against the
sources' registry, which this layer does not import).

    libraries:
      acme/base:
        source: git+https://git.example/acme/base.git
        ref: "1.4"                  # optional: the version a reference without '@' gets (default: head)
      team/tools:
        source: ./scripts           # a folder, relative to this file
      ops/extra: git+file:///srv/git/extra.git@v2      # short form: SOURCE[@REF]
    trust:                          # signatures a namespace's libraries must carry (docs/sharing.md)
      acme:
        allowed signers: keys/acme.allowed   # OpenSSH allowed-signers lines 'acme ssh-ed25519 AAAA...'
        required: true              # default: an unsigned or wrongly signed library of acme is refused
    store: ~/.local/state/stackscripts/audit.db        # a path or a URL (postgresql://...)
    cloud: local
    credential backends: [env, file]
    keys: ssm                       # where launch stores the SSH keys it makes (after $STACKSCRIPTS_KEY_BACKEND)
    team: web                       # the team this project's records belong to (after $STACKSCRIPTS_TEAM)

`STACKSCRIPTS_PROJECT` names the file directly (no walking).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import files, yamlsrc
from .errors import BadInput
from .revisions.refs import NAME, check_version, library_name_problem, split_ref

FILE_NAME = "stackscripts.yaml"
TOP_KEYS = ("libraries", "trust", "store", "cloud", "credential backends", "keys", "team")
LIBRARY_KEYS = ("source", "ref")
TRUST_KEYS = ("allowed signers", "required")
_BACKEND = re.compile(r"[a-z][a-z0-9_-]*")
# A team's name: on PostgreSQL the role whose members see its records (docs/team-store.md), so no pg_ prefix and
# none of PostgreSQL's reserved role names.
TEAM_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
_RESERVED_ROLES = frozenset({"public", "none", "current_user", "session_user", "current_role", "stackscripts_admin"})


@dataclass(frozen=True)
class LibrarySpec:
    """A library of the project: its name, source URL and ref ("" = the source's default, head)."""

    name: str
    source: str
    ref: str = ""
    line: int | None = None


@dataclass(frozen=True)
class TrustSpec:
    """Who may sign a namespace's libraries: an OpenSSH allowed-signers file; `required` refuses unsigned ones."""

    namespace: str
    allowed_signers: Path
    required: bool = True
    line: int | None = None


@dataclass(frozen=True)
class Project:
    file: Path
    libraries: tuple[LibrarySpec, ...] = ()
    store: str | None = None
    cloud: str | None = None
    credential_backends: tuple[str, ...] | None = None
    trust: tuple[TrustSpec, ...] = ()
    keys: str | None = None  # the credential backend launch stores SSH keys in (None: files in the state dir)
    team: str | None = None  # the team its records belong to (None: $STACKSCRIPTS_TEAM, else "default")

    @property
    def folder(self) -> Path:
        return self.file.parent

    def library(self, name: str) -> LibrarySpec | None:
        return next((lib for lib in self.libraries if lib.name == name), None)

    def names(self) -> frozenset[str]:
        return frozenset(lib.name for lib in self.libraries)

    def trust_of(self, library: str) -> TrustSpec | None:
        """The signing rule of a library's namespace (NAMESPACE/LIBRARY), None when it has none."""
        namespace = library.split("/", 1)[0]
        return next((t for t in self.trust if t.namespace == namespace), None)


def find(start: Path | str | None = None) -> Path | None:
    """$STACKSCRIPTS_PROJECT, else the nearest stackscripts.yaml in start (default: the working folder) or above."""
    if os.environ.get("STACKSCRIPTS_PROJECT"):
        return Path(os.environ["STACKSCRIPTS_PROJECT"])
    folder = Path(os.path.abspath(start if start is not None else os.getcwd()))
    for candidate in (folder, *folder.parents):
        if (candidate / FILE_NAME).is_file():
            return candidate / FILE_NAME
    return None


def current() -> Project | None:
    """The project file found from the working folder, loaded; None when there is none."""
    path = find()
    return load(path) if path is not None else None


def default_store() -> str | None:
    """The project file's `store` (a relative path against the file's folder; a DSN as written), None without one."""
    found = current()
    if found is None or not found.store:
        return None
    if "://" in found.store:
        return found.store
    path = Path(found.store).expanduser()
    return str(path if path.is_absolute() else found.folder / path)


def default_team() -> str | None:
    """The project file's `team`, None without one."""
    found = current()
    return found.team if found is not None else None


def default_credential_backends() -> tuple[str, ...] | None:
    """The project file's `credential backends`, None without them."""
    found = current()
    return found.credential_backends if found is not None else None


def load(path: Path | str) -> Project:
    return loads(files.read_text(path, "project file", hint=f"Name a {FILE_NAME} file."), Path(path))


def loads(text: str, path: Path) -> Project:
    file = str(path)
    data = yamlsrc.load(text, file)
    if data is None:
        return Project(path)
    if not isinstance(data, dict):
        raise BadInput("a project file must be a YAML mapping", file=file, line=yamlsrc.line_of(data) or 1,
                       hint="Start with 'libraries:'.")
    for key in data:
        if key not in TOP_KEYS:
            raise _bad(f"unknown key {key!r}", file, data, key, "Allowed keys: " + ", ".join(TOP_KEYS) + ".")
    raw = _mapping(data, "libraries", file, "library names (NAMESPACE/LIBRARY) to their sources",
                   "Write 'libraries:' then '  acme/base: {source: git+https://...}'.")
    libraries = tuple(_library(name, value, file, raw) for name, value in raw.items())
    backends = data.get("credential backends")
    if backends is not None:
        if not isinstance(backends, list) or not all(isinstance(b, str) and _BACKEND.fullmatch(b) for b in backends):
            raise _bad("'credential backends' must be a list of backend names", file, data, "credential backends",
                       "Write 'credential backends: [env, file]' (also ssm, secretsmanager).")
        backends = tuple(backends)
    trust = _mapping(data, "trust", file, "namespaces to their allowed signers",
                     "Write 'trust:' then '  acme: {allowed signers: keys/acme.allowed}'.")
    rules = tuple(_trust(ns, value, path, trust) for ns, value in trust.items())
    return Project(path, libraries, _text(data, "store", file), _text(data, "cloud", file), backends, rules,
                   keys=_keys(data, file), team=_team(data, file))


def team_problem(name: str) -> str | None:
    """Why a team name is not one (None when it is): lowercase letters, digits, '_' and '-', 63 at most."""
    if not TEAM_NAME.fullmatch(name):
        return (f"{name!r} is not a team name: lowercase letters, digits, '_' and '-', starting with a letter or '_', "
                "at most 63")
    if name.startswith("pg_") or name in _RESERVED_ROLES:
        return f"{name!r} cannot be a team name: PostgreSQL reserves it (or stackscripts uses it) as a role name"
    return None


def _team(data: dict[str, Any], file: str) -> str | None:
    value = data.get("team")
    if value is None:
        return None
    problem = team_problem(value) if isinstance(value, str) else f"'team' must be a team name, not {value!r}"
    if problem:
        raise _bad(problem, file, data, "team", "Write 'team: web' (the team's PostgreSQL role on a team store).")
    return str(value)


def _keys(data: dict[str, Any], file: str) -> str | None:
    value = data.get("keys")
    if value is None:
        return None
    if not isinstance(value, str) or not _BACKEND.fullmatch(value) or value == "env":
        raise _bad(f"'keys' must name a credential backend that can store keys, not {value!r}", file, data, "keys",
                   "Write 'keys: ssm' (or secretsmanager, or file).")
    return value


def _trust(namespace: Any, value: Any, path: Path, parent: dict[str, Any]) -> TrustSpec:
    file, line = str(path), yamlsrc.line_of(parent, namespace)
    if not isinstance(namespace, str) or not NAME.fullmatch(namespace):
        raise BadInput(f"trust: {namespace!r} is not a namespace (letters, digits, '.', '_', '-')", file=file,
                       line=line, hint="Name the namespace of the libraries, e.g. 'acme' for acme/base.")
    if not isinstance(value, dict):
        raise BadInput(f"trust: {namespace}: write a mapping with 'allowed signers' (and 'required')", file=file,
                       line=line, hint="e.g. 'acme: {allowed signers: keys/acme.allowed, required: true}'.")
    for key in value:
        if key not in TRUST_KEYS:
            raise _bad(f"trust: {namespace}: unknown key {key!r}", file, value, key,
                       "Allowed keys: allowed signers, required.")
    signers, required = value.get("allowed signers"), value.get("required", True)
    if not isinstance(signers, str) or not signers.strip():
        raise _bad(f"trust: {namespace}: 'allowed signers' must name an allowed-signers file", file, value,
                   "allowed signers" if "allowed signers" in value else None,
                   "Write 'allowed signers: keys/acme.allowed' (relative to this file).")
    if not isinstance(required, bool):
        raise _bad(f"trust: {namespace}: 'required' must be true or false, not {required!r}", file, value,
                   "required", "Write 'required: true' (the default) or 'required: false'.")
    allowed = Path(signers.strip()).expanduser()
    return TrustSpec(namespace, allowed if allowed.is_absolute() else path.parent / allowed, required, line)


def _mapping(data: dict[str, Any], key: str, file: str, what: str, hint: str) -> dict[str, Any]:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise _bad(f"'{key}' must map {what}", file, data, key, hint)
    return value or {}


def _text(data: dict[str, Any], key: str, file: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _bad(f"'{key}' must be text, not {value!r}", file, data, key, f"Write '{key}: ...' (quote it if needed).")
    return value


def _library(name: Any, value: Any, file: str, parent: dict[str, Any]) -> LibrarySpec:
    line = yamlsrc.line_of(parent, name)
    problem = library_name_problem(str(name))
    if problem:
        raise BadInput(problem, file=file, line=line, hint="Name each library NAMESPACE/LIBRARY.")
    if isinstance(value, str):
        source, ref = split_ref(value.strip())
    elif isinstance(value, dict):
        for key in value:
            if key not in LIBRARY_KEYS:
                raise _bad(f"library {name}: unknown key {key!r}", file, value, key, "Allowed keys: source, ref.")
        source_value, ref = value.get("source"), value.get("ref", "")
        if not isinstance(source_value, str) or not source_value.strip():
            raise _bad(f"library {name}: 'source' must be a folder or URL", file, value,
                       "source" if "source" in value else None, "Write 'source: git+https://host/acme/base.git'.")
        if not isinstance(ref, str):
            raise _bad(f"library {name}: 'ref' must be text, not {ref!r}", file, value, "ref",
                       'Quote a version: ref: "1.4".')
        source = source_value
        line = yamlsrc.line_of(value, "source") or line
    else:
        raise BadInput(f"library {name}: write its source (a folder or URL), or a mapping with source and ref",
                       file=file, line=line, hint="e.g. 'acme/base: git+https://host/acme/base.git@v1.4'.")
    if ref:
        check_version(ref, file=file, line=line, what=f"library {name}: ref")
    return LibrarySpec(str(name), source.strip(), ref, line)


def _bad(message: str, file: str, container: Any, key: Any = None, hint: str | None = None) -> BadInput:
    return BadInput(message, file=file, line=yamlsrc.line_of(container, key), hint=hint)
