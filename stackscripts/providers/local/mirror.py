"""Where the local cloud's Debian packages come from: an override, else the host's own apt sources, else deb.debian.org.

A host behind a corporate mirror (or an apt cache) can reach only that mirror, and its apt sources already say
which it is: the base image is debootstrapped from it, and every instance's /etc/apt/sources.list names it.

    choice = choose("bookworm")          # reads /etc/apt/sources.list, sources.list.d/*.list and *.sources
    choice.mirror, choice.origin         # "http://mirror.corp/debian", "/etc/apt/sources.list.d/debian.sources"
    choice.sources_list("bookworm")      # the text of an instance's /etc/apt/sources.list
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...errors import CloudError

MIRROR_ENV = "STACKSCRIPTS_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
# Debian's release names and aliases: an entry for any other suite (Ubuntu's jammy, a vendor's channel) is not Debian.
DEBIAN_SUITES = frozenset({
    "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
    "oldoldstable", "oldstable", "stable", "testing", "unstable",
})  # fmt: skip
USABLE_SCHEMES = ("http://", "https://", "ftp://", "file:/")  # what debootstrap can fetch from (not mirror+, cdrom:, tor+)


@dataclass(frozen=True)
class SourceEntry:
    """One `deb URI SUITE COMPONENTS...` line; signed_by is the keyring the host names for it, if any."""

    uri: str
    suite: str
    components: tuple[str, ...]
    signed_by: str | None = None

    def line(self) -> str:
        return f"deb {self.uri} {self.suite} {' '.join(self.components)}"


@dataclass(frozen=True)
class MirrorChoice:
    """The Debian mirror to use, its security archive (None: the host uses none), and where the choice came from."""

    mirror: str
    security: str | None
    components: tuple[str, ...]
    origin: str

    def sources(self, suite: str) -> list[SourceEntry]:
        entries = [SourceEntry(self.mirror, suite, self.components),
                   SourceEntry(self.mirror, f"{suite}-updates", self.components)]  # fmt: skip
        if self.security:
            entries.append(SourceEntry(self.security, f"{suite}-security", self.components))
        return entries

    def sources_list(self, suite: str) -> str:
        """An /etc/apt/sources.list for an instance of `suite`."""
        lines = "".join(entry.line() + "\n" for entry in self.sources(suite))
        return f"# Written by stackscripts: the Debian mirror from {self.origin}.\n{lines}"


def parse_one_line(text: str) -> list[SourceEntry]:
    """Entries from a classic sources.list (`deb [options] URI SUITE COMPONENTS...`)."""
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        options = " ".join(re.findall(r"\[([^\]]*)\]", line))
        words = re.sub(r"\[[^\]]*\]", " ", line).split()
        if len(words) >= 4 and words[0] == "deb":
            signed = re.search(r"signed-by=(\S+)", options)
            entries.append(SourceEntry(words[1].rstrip("/"), words[2], tuple(words[3:]), signed and signed.group(1)))
    return entries


def parse_deb822(text: str) -> list[SourceEntry]:
    """Entries from a deb822 .sources file (paragraphs of Types/URIs/Suites/Components)."""
    entries = []
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for raw in paragraph.splitlines():
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[0] in " \t" and key:
                fields[key] += " " + raw.strip()
            elif ":" in raw:
                key, _, value = raw.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        signed_by = fields.get("signed-by") or None
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                components = tuple(fields.get("components", "main").split())
                entries.append(SourceEntry(uri.rstrip("/"), suite, components, signed_by))
    return entries


def host_sources(etc: Path = Path("/etc/apt")) -> list[tuple[str, SourceEntry]]:
    """(file, entry) for every enabled `deb` entry of the host, in apt's order (sources.list, then sources.list.d)."""
    found: list[tuple[str, SourceEntry]] = []
    for path in [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*"))]:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if path.suffix == ".sources":
            found += [(str(path), entry) for entry in parse_deb822(text)]
        elif path.name == "sources.list" or path.suffix == ".list":
            found += [(str(path), entry) for entry in parse_one_line(text)]
    return found


def host_debian_sources(codename: str, etc: Path = Path("/etc/apt")) -> list[SourceEntry]:
    """The host's Debian archive entries for `codename` and its -updates/-security/-backports suites."""
    wanted = {codename, f"{codename}/updates", *(f"{codename}-{s}" for s in ("updates", "security", "backports"))}
    kept: list[SourceEntry] = []
    for _path, entry in host_sources(etc):
        if entry.suite in wanted and entry not in kept:
            kept.append(entry)
    return kept


def _is_archive(entry: SourceEntry, suites: set[str]) -> bool:
    """A Debian release archive debootstrap can use (not security, not a third party's repository)."""
    return (entry.suite in suites and "main" in entry.components and entry.uri.startswith(USABLE_SCHEMES)
            and "security" not in entry.uri)  # fmt: skip


def _signed_by_debian(entry: SourceEntry) -> bool:
    return entry.signed_by is None or "debian-archive-keyring" in entry.signed_by


def _best_archive(entries: list[tuple[str, SourceEntry]], releases: set[str], suite: str) -> tuple[str, SourceEntry] | None:
    """Debian's own signature first (a third party's repository may name a Debian suite), then `suite`, then apt's order."""
    archives = [(path, entry) for path, entry in entries if _is_archive(entry, releases)]
    archives.sort(key=lambda item: (not _signed_by_debian(item[1]), item[1].suite != suite))
    return archives[0] if archives else None


def pick_mirror(entries: list[SourceEntry]) -> str:
    """The URI serving a Debian release itself (not -security/-updates, nor a third party's), else deb.debian.org."""
    releases = set(DEBIAN_SUITES) | {e.suite for e in entries if "-" not in e.suite and "/" not in e.suite}
    best = _best_archive([("", e) for e in entries], releases, "")
    return best[1].uri if best else DEFAULT_MIRROR


def default_sources(codename: str, mirror: str) -> list[SourceEntry]:
    return MirrorChoice(mirror, DEFAULT_SECURITY, ("main",), "default").sources(codename)


def host_codename(os_release: Path = Path("/etc/os-release")) -> str | None:
    """This machine's Debian release name, None on another distribution (its mirror would not serve Debian)."""
    try:
        text = os_release.read_text(errors="replace")
    except OSError:
        return None
    fields = dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', text, re.M))
    return fields.get("VERSION_CODENAME") or None if fields.get("ID") == "debian" else None


def choose(
    suite: str,
    *,
    etc: Path = Path("/etc/apt"),
    os_release: Path = Path("/etc/os-release"),
    env: Mapping[str, str] = os.environ,
) -> MirrorChoice:
    """The mirror for `suite`: $STACKSCRIPTS_DEBIAN_MIRROR, else the host's Debian mirror, else deb.debian.org."""
    entries = host_sources(etc)
    codename = host_codename(os_release)
    releases = set(DEBIAN_SUITES) | {suite, *([codename] if codename else [])}
    security = next((entry for _path, entry in entries if entry.uri.startswith(USABLE_SCHEMES) and (
        entry.suite in {f"{r}-security" for r in releases} | {f"{r}/updates" for r in releases})), None)
    override = env.get(MIRROR_ENV, "").strip().rstrip("/")
    if override:
        if not override.startswith(USABLE_SCHEMES):
            raise CloudError(f"local cloud: {MIRROR_ENV}={override!r} is not a Debian mirror URL.",
                             hint=f"Give an http(s), ftp or file URL, e.g. {MIRROR_ENV}=http://mirror.example/debian.")
        return MirrorChoice(override, security.uri if security else None, ("main",), MIRROR_ENV)
    best = _best_archive(entries, releases, suite)
    if best is None:
        return MirrorChoice(DEFAULT_MIRROR, DEFAULT_SECURITY, ("main",), f"{DEFAULT_MIRROR} (no Debian source on this host)")
    path, chosen = best
    return MirrorChoice(chosen.uri, security.uri if security else None, chosen.components, path)
