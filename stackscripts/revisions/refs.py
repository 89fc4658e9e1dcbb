"""Library references as templates write them: `namespace/library/script@version`, and right_st's form.

    acme/base/install-docker@1.4          a version (a git tag v1.4 or 1.4, an OCI tag, an S3 version)
    acme/base/Install Docker@latest       the highest version the source has
    acme/base/install-docker@head         the source as it is now (a folder, a branch's tip): mutable
    acme/base/install-docker@sha256:...   exactly that revision (a manifest digest)
    acme/base/install-docker              the version the project file gives the library (stackscripts.yaml)

The script part is a RightScript Name, a file stem or a file name of the library. right_st's step
`{Name: Install Docker, Revision: 3, Publisher: acme}` maps onto the same value with no library: the one
library of namespace `acme` that has the script (`from_right_st`). Parsing only; resolving a reference to a
digest is `api`'s job (it fetches through the sources and hands the catalog folders).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadInput
from .manifest import is_digest

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
MUTABLE = ("head",)
SPECIAL = ("latest", "head")
_HINT = ("Write NAMESPACE/LIBRARY/SCRIPT@VERSION, e.g. acme/base/install-docker@1.4 (or @latest, @head, "
         "@sha256:<64 hex digits>).")


@dataclass(frozen=True)
class LibraryRef:
    """A parsed reference. `library` is None for right_st's Publisher form; `version` "" means the project's."""

    namespace: str
    library: str | None
    script: str
    version: str = ""

    @property
    def library_name(self) -> str | None:
        return f"{self.namespace}/{self.library}" if self.library else None

    @property
    def kind(self) -> str:
        """"digest", "latest", "head", "project" (no version written) or "version"."""
        if is_digest(self.version):
            return "digest"
        if self.version in SPECIAL:
            return self.version
        return "version" if self.version else "project"

    @property
    def mutable(self) -> bool:
        return self.version in MUTABLE

    def with_version(self, version: str) -> LibraryRef:
        return LibraryRef(self.namespace, self.library, self.script, version)

    def __str__(self) -> str:
        head = f"{self.namespace}/{self.library or '*'}/{self.script}"
        return f"{head}@{self.version}" if self.version else head


def library_name_problem(name: str) -> str | None:
    """Why NAME is not a library name NAMESPACE/LIBRARY, or None."""
    parts = name.split("/")
    if len(parts) != 2 or not all(NAME.fullmatch(p) for p in parts):
        return (f"{name!r} is not a library name: write NAMESPACE/LIBRARY, each part letters, digits, '.', '_' "
                "or '-' (e.g. acme/base)")
    return None


def check_version(version: str, *, file: str | None = None, line: int | None = None, what: str = "version") -> str:
    if version in SPECIAL or is_digest(version) or VERSION.fullmatch(version):
        return version
    raise BadInput(f"{what} {version!r} is not latest, head, sha256:<64 hex digits> or a version "
                   "(letters, digits, '.', '_', '+', '-')", file=file, line=line, hint=_HINT)


def parse(text: str, *, file: str | None = None, line: int | None = None,
          libraries: frozenset[str] = frozenset()) -> LibraryRef | None:
    """The reference written as text, or None when text is a path or a `LIBRARY/NAME` of a local library.

    Call it for text that is not an existing file. Text with '@' must be a well-formed reference (BadInput
    naming file:line otherwise). Without '@', text is a reference only when its first two parts name a library
    of `libraries` (the project file's): that library's version from the project file applies."""
    text = text.strip()
    if text.startswith((".", "/")):
        return None  # a path (callers try paths first: a file that exists is never a reference)
    if "@" in text:
        head, _, version = text.rpartition("@")
        parts = head.split("/")
        if len(parts) != 3:
            raise BadInput(f"{text!r} is not a library reference: it has '@' but not three parts before it",
                           file=file, line=line, hint=_HINT)
    else:
        parts, version = text.split("/", 2), ""
        if len(parts) != 3 or f"{parts[0]}/{parts[1]}" not in libraries:
            return None
    namespace, library, script = (p.strip() for p in parts)
    problem = library_name_problem(f"{namespace}/{library}")
    if problem:
        raise BadInput(f"in library reference {text!r}: {problem}", file=file, line=line, hint=_HINT)
    if not script or "/" in script:
        raise BadInput(f"library reference {text!r} names no script after NAMESPACE/LIBRARY/", file=file, line=line,
                       hint=_HINT)
    if version:
        check_version(version, file=file, line=line, what=f"in library reference {text!r}: version")
    elif "@" in text:
        raise BadInput(f"library reference {text!r} has nothing after '@'", file=file, line=line, hint=_HINT)
    return LibraryRef(namespace, library, script, version)


def from_right_st(name: str, revision: object, publisher: object, *, file: str | None = None,
                  line: int | None = None) -> LibraryRef:
    """right_st's `{Name, Revision, Publisher}`: Publisher is the namespace, Revision a version, `latest`, `head`
    (right_st's 0 is head too) or a digest; the library is whichever of the namespace has the script."""
    if not isinstance(publisher, str) or not NAME.fullmatch(publisher.strip()):
        raise BadInput(f"Publisher {publisher!r} is not a namespace (letters, digits, '.', '_', '-')", file=file,
                       line=line, hint="Write 'Publisher: acme', the namespace of the libraries that offer the script.")
    if isinstance(revision, bool) or revision is None:
        raise BadInput(f"Revision {revision!r} is not a revision", file=file, line=line,
                       hint="Write 'Revision: latest', 'Revision: head', a version or a sha256: digest.")
    text = str(revision).strip()
    version = "head" if text == "0" else text.lower() if text.lower() in SPECIAL else text
    if version:  # "": no Revision written, the library's ref from the project file
        check_version(version, file=file, line=line, what="Revision")
    if not name.strip() or "/" in name:
        raise BadInput(f"Name {name!r} is not a script name", file=file, line=line,
                       hint="Write the script's RightScript Name, e.g. 'Name: Install Docker'.")
    return LibraryRef(publisher.strip(), None, name.strip(), version)


# Source URLs (the sources' registry maps schemes to sources; these only split text)

def short_ref(resolved_ref: str) -> str:
    """A source's id of a revision, shortened for people: a commit's 12 digits, `sha256:` and 12 of a digest's."""
    return resolved_ref[:19] if resolved_ref.startswith("sha256:") else resolved_ref[:12]


def scheme_of(url: str) -> str:
    head, sep, _ = url.partition("://")
    return head.lower() if sep else ""


def split_ref(spec: str) -> tuple[str, str]:
    """`URL@REF` -> (URL, REF); the ref is after the last '@' of the URL's path (pip's rule), "" when none. An
    `oci://` URL may also end in `:TAG`, as image references do (`oci://registry:5000/acme/base:1.4`)."""
    if scheme_of(spec) == "oci" and "@" not in spec:
        host, slash, path = spec[len("oci://"):].partition("/")
        name, colon, tag = path.rpartition("/")[2].partition(":")
        if slash and colon and name and tag:
            return spec[: len(spec) - len(tag) - 1], tag
    start = spec.find("/", spec.index("://") + 3) if scheme_of(spec) else 0
    if start >= 0 and "@" in spec[start:]:
        url, _, ref = spec.rpartition("@")
        if url and ref:
            return url, ref
    return spec, ""
