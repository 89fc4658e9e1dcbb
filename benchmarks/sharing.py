"""`python -m benchmarks.sharing [--repeat N] [--sources folder,git-file,git-daemon,s3,oci] [--scripts 1000]`:
shared libraries' speed (issue 10) on loopback, against thresholds: a cold fetch of a 1,000-script library through
each source 10 s; after one script changed, a warm fetch transfers 1 blob; `templates validate` of a locked 40-step
template against 5 x 1,000 scripts, warm cache, in-process, 0.5 s. Exit 1 when over, 2 when a part is missing for a
kind named with --sources (by default it is listed as not measured). A miss is profiled; report: --output.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stackscripts.revisions.manifest import scan  # noqa: E402
from stackscripts.sources.base import open_source  # noqa: E402
from stackscripts.sources.cache import Cache  # noqa: E402
from tests.sources.conftest import init_bare, start_daemon  # noqa: E402
from tests.support.rightscripts import write_rightscript  # noqa: E402

KINDS = ("folder", "git-file", "git-daemon", "s3", "oci")
MODULE = {"folder": "folder", "git-file": "git", "git-daemon": "git", "s3": "s3", "oci": "oci"}
FETCH_LIMIT, VALIDATE_LIMIT, LIBRARIES = 10.0, 0.5, 5
PHASES, STEPS = (("Boot", 24), ("Operational", 10), ("Decommission", 6)), 40
NewLibrary = Callable[[str, Path], str]  # (library name, publisher's folder) -> the URL to publish to


class Missing(Exception):
    """A part this benchmark needs is not on this machine (or not written yet): a source's module."""


@dataclass
class Row:
    label: str
    times: list[float]
    limit: float | None = None  # seconds; None: reported only
    failed: str = ""  # a check other than time that failed (more than one blob transferred)
    profile: list[str] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def over(self) -> bool:
        return bool(self.failed) or (self.limit is not None and self.median > self.limit)

    def cells(self) -> list[str]:
        spread = f"{min(self.times):.3f}-{max(self.times):.3f}" if len(self.times) > 1 else ""
        verdict = f"FAILED: {self.failed}" if self.failed else "" if self.limit is None else "ok" \
            if not self.over else f"OVER by {self.median - self.limit:.2f} s ({self.median / self.limit - 1:.0%})"
        return [self.label, f"{self.median:.3f}", spread, f"{self.limit:g} s" if self.limit else "", verdict]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def profile(call: Callable[[], Any], top: int = 12) -> list[str]:
    """Where a call spends its time: stackscripts' functions by cumulative time, then all by self time."""
    (prof := cProfile.Profile()).runcall(call)
    raw: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = max(sum(v[2] for v in raw.values()), 1e-9)

    def line(key: Any, value: Any) -> str:
        where = f"{Path(key[0]).relative_to(ROOT)}:{key[1]}" if key[0].startswith(str(ROOT)) else Path(key[0]).name
        return (f"{key[2]} ({where}): {value[3] * 1000:.0f} ms cumulative ({value[3] / total:.0%}), "
                f"{value[2] * 1000:.0f} ms self, {value[1]} calls")

    own = sorted(((k, v) for k, v in raw.items() if "/stackscripts/" in k[0]), key=lambda kv: -kv[1][3])[:top]
    heavy = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top // 2]
    return [f"total {total * 1000:.0f} ms", *(line(*kv) for kv in own), "by self time:", *(line(*kv) for kv in heavy)]


def write_library(folder: Path, scripts: int, tag: str = "") -> Path:
    """SCRIPTS RightScripts in folders of 100 (a metadata block, one input each), every 100th with an attachment."""
    for n in range(scripts):
        attachments = {f"script-{n:04d}.conf": f"port={8000 + n}\n"} if n % 100 == 0 else {}
        write_rightscript(folder / f"group-{n // 100:02d}", f"Script {n:04d}",
                          f'echo "{tag}step {n}: $VALUE_{n:04d}"\n', file=f"script-{n:04d}.sh",
                          inputs={f"VALUE_{n:04d}": f"text:v{n}"}, attachments=attachments)
    return folder


def start(kind: str, work: Path, stack: ExitStack) -> NewLibrary:
    """Start the kind's server (stopped with the stack): how to make a library of it. A missing part (the source's
    module; git daemon, moto or docker-registry: tests/support/parts.py `require`) raises."""
    try:
        importlib.import_module(f"stackscripts.sources.{MODULE[kind]}")
    except ImportError as exc:
        raise Missing(f"missing part: stackscripts.sources.{MODULE[kind]} does not import ({exc})") from None
    if kind == "folder":
        return lambda name, folder: str(folder)
    if kind == "git-file":
        return lambda name, folder: f"git+file://{init_bare(work / 'git' / f'{name}.git')}"
    if kind == "git-daemon":
        daemon = start_daemon(Path(tempfile.mkdtemp(prefix="served-", dir=work)))
        stack.callback(daemon.process.wait, 10)
        stack.callback(daemon.process.terminate)
        return lambda name, folder: daemon.url(init_bare(daemon.root / f"{name}.git").name)
    if kind == "s3":
        from tests.sources.s3_parts import s3
        from tests.support.moto import start_moto

        server = start_moto()
        stack.callback(server.stop)
        os.environ.update(server.env())
        bucket = f"bench-{uuid.uuid4().hex[:16]}"
        s3().create_bucket(Bucket=bucket)
        return lambda name, folder: f"s3://{bucket}/acme/{name}"
    from tests.sources.oci_parts import start_registry

    registry = start_registry(work / "registry")
    stack.callback(registry.stop)
    return lambda name, folder: registry.url(f"acme/{name}")


def git_objects(cache: Cache) -> int:
    """Distinct objects in the cache's git mirrors (the difference across a fetch: what git sent)."""
    return sum(len(subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch-check=%(objectname)"],
                                  cwd=mirror, capture_output=True, check=True).stdout.split())
               for mirror in (cache.root / "git").glob("*.git"))


def fetch_rows(kind: str, new_library: NewLibrary, scripts: int, repeat: int, work: Path,
               force_profile: bool) -> list[Row]:
    """Publish 1.0, fetch it cold N times (one cache each), change a script, publish 1.1, fetch it into each."""
    name = f"bench-{kind}"
    folder = write_library(work / "publisher" / kind, scripts)
    url, publisher = new_library(name, folder), Cache(work / "publisher-cache" / kind)

    def publish(version: str) -> str:
        if kind == "folder":  # a folder is its own head: nothing to publish
            return scan(folder).digest
        return open_source(url, cache=publisher).publish(folder, version, f"acme/{name}").digest

    def fetch(version: str, cache: Cache) -> Any:
        return open_source(url, cache=cache).fetch("head" if kind == "folder" else version, cache)

    published, _ = timed(lambda: publish("1.0"))
    caches = [Cache(work / "caches" / kind / str(i)) for i in range(repeat)]
    cold = [timed(lambda c=cache: fetch("1.0", c)) for cache in caches]  # type: ignore[misc]
    first = cold[0][1]
    changed = folder / f"group-{scripts // 2 // 100:02d}" / f"script-{scripts // 2:04d}.sh"
    changed.write_text(changed.read_text() + "echo changed\n")
    republished, _ = timed(lambda: publish("1.1"))
    warm, moved, wire = [], set(), set()
    for cache in caches:
        before = git_objects(cache)
        elapsed, fetched = timed(lambda c=cache: fetch("1.1", c))  # type: ignore[misc]
        warm.append(elapsed)
        moved.add((fetched.transferred, fetched.transferred_bytes))
        wire.add(git_objects(cache) - before)
    blobs = ", ".join(f"{n} blob(s) of {b} bytes" for n, b in sorted(moved))
    sent = f"; git sent {'/'.join(map(str, sorted(wire)))} objects (commit, tag, trees, blob)" \
        if kind.startswith("git") else ""
    size = f"{first.transferred} files, {first.transferred_bytes} bytes"
    rows = [Row(f"{kind}: publish 1.0 ({size})", [published]),
            Row(f"{kind}: cold fetch of 1.0 ({size} transferred)", [t for t, _ in cold], FETCH_LIMIT),
            Row(f"{kind}: publish 1.1 (one script changed)", [republished]),
            Row(f"{kind}: fetch 1.1 into the warm cache: {blobs} transferred{sent}", warm,
                failed="" if moved == {(1, len(changed.read_bytes()))} else f"expected 1 blob, got {blobs}")]
    if rows[1].over or force_profile:
        rows[1].profile = profile(lambda: fetch("1.0", Cache(work / "caches" / kind / "profiled")))
    return rows


def template_text(scripts: int) -> str:
    """40 references across the 5 libraries: versions, @latest, the project's ref, by name, stem and file name."""
    lines, k = ["Name: Shared Libraries Bench", "RightScripts:"], 0
    for phase, count in PHASES:
        lines.append(f"  {phase}:")
        for _ in range(count):
            lib, n, k = k % LIBRARIES, (k * 97 + 13) % scripts, k + 1
            lines.append(f"  - team/tools/script-{n:04d}" + ("@head" if k % 2 else "") if lib == LIBRARIES - 1 else
                         (f"  - acme/lib{lib}/script-{n:04d}@1.0", f"  - acme/lib{lib}/Script {n:04d}@latest",
                          f"  - acme/lib{lib}/script-{n:04d}.sh")[k % 3])
    return "\n".join(lines) + "\n"


def validate_rows(scripts: int, repeat: int, work: Path, force_profile: bool) -> list[Row]:
    """4 git libraries at version 1.0 and a folder library, a locked template, validated with the cache warm."""
    from stackscripts import api

    project = work / "project"
    (project / "servertemplates").mkdir(parents=True)
    os.environ["STACKSCRIPTS_CACHE"] = str(work / "cache")
    for name in ("STACKSCRIPTS_PROJECT", "STACKSCRIPTS_LIBRARY"):
        os.environ.pop(name, None)
    os.chdir(project)
    for j in range(LIBRARIES - 1):
        folder = write_library(work / "libs" / f"lib{j}", scripts, tag=f"lib{j} ")
        url = f"git+file://{init_bare(work / 'git' / f'lib{j}.git')}"
        open_source(url, cache=Cache(work / "publisher-cache")).publish(folder, "1.0", f"acme/lib{j}")
        api.libraries.add_library(f"acme/lib{j}", f"{url}@1.0")
    write_library(project / "tools", scripts, tag="tools ")
    api.libraries.add_library("team/tools", "./tools")
    path = project / "servertemplates" / "app.yaml"
    path.write_text(template_text(scripts))
    locked, result = timed(lambda: api.revisions.lock_template(path))
    first, _ = timed(lambda: api.validate_template(path))
    in_process = [timed(lambda: api.validate_template(path))[0] for _ in range(repeat)]
    cli = [str(Path(sys.executable).parent / "stackscripts")]  # the console script of this environment
    done = subprocess.run([*cli, "templates", "validate", str(path)], capture_output=True, text=True)  # warm-up
    if done.returncode != 0 or "valid" not in done.stdout:
        raise RuntimeError(f"stackscripts templates validate: exit {done.returncode}: {done.stderr[-800:]}")
    runs = [[*cli, "templates", "validate", str(path)]] * repeat + [[*cli, "--version"]] * (repeat + 1)
    times = [timed(lambda a=a: subprocess.run(a, capture_output=True, timeout=120, check=True))[0]  # type: ignore[misc]
             for a in runs]
    rows = [Row(f"templates lock: {len(result.lock.entries)} references, cache warm", [locked]),
            Row(f"validate, in-process, first call (imports the commands' modules): {STEPS} steps", [first]),
            Row(f"validate a locked {STEPS}-step template, {LIBRARIES} libraries x {scripts} scripts, warm cache, "
                "in-process (api.validate_template)", in_process, VALIDATE_LIMIT),
            Row("the same as a process: `stackscripts templates validate` (start-up included)", times[:repeat]),
            Row("process start-up alone: `stackscripts --version` (first run not counted)", times[repeat + 1:])]
    if rows[2].over or force_profile:
        rows[2].profile = profile(lambda: api.validate_template(path))
    return rows


def report(rows: list[Row], skipped: dict[str, str], args: argparse.Namespace, command: str) -> str:
    lines = ["# Shared libraries: fetch and validate speed", "",
             f"Generated by `{command}` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python "
             f"{sys.version.split()[0]}; every server on 127.0.0.1. Seconds: medians of {args.repeat} runs, "
             f"min-max beside them (none: one run). Fetches: a generated library of {args.scripts} RightScripts (one "
             "input each, an attachment every 100) published as 1.0 and fetched into an empty cache with a fresh "
             "source object (git: a fresh mirror, which lives in the cache); then one script changed, published as "
             f"1.1, and fetched into each warm cache. Validate: {LIBRARIES} libraries of {args.scripts} scripts (4 "
             "git+file:// at version 1.0, one folder), a 40-step template (Boot 24, Operational 10, Decommission 6) "
             "locked with `templates lock`, the cache warm. Made by `benchmarks/sharing.py`.", "",
             "| Measure | Median s | Min-max s | Threshold | Verdict |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    if skipped:
        lines += ["", "Not measured: " + "; ".join(f"{kind} ({why})" for kind, why in skipped.items()) + "."]
    for row in (r for r in rows if r.profile):
        lines += ["", f"## Profile: {row.label}", "", "```text", *(row.profile or []), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sharing", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sources", help="source kinds to fetch through, comma-separated: " + ",".join(KINDS))
    parser.add_argument("--scripts", type=int, default=1000, help="scripts per library (default 1000)")
    parser.add_argument("--parts", default="fetch,validate", help="fetch, validate or both (default)")
    parser.add_argument("--profile", action="store_true", help="profile even when under the thresholds")
    parser.add_argument("--output", default="docs/performance-sharing.md", help="report file ('-': none)")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.sources.split(",")] if args.sources else list(KINDS)
    if [k for k in kinds if k not in KINDS] or args.repeat < 1 or args.scripts < 100:
        parser.error(f"--sources takes {','.join(KINDS)}; --repeat 1 or more; --scripts 100 or more")
    command = " ".join(["python -m benchmarks.sharing", *(sys.argv[1:] if argv is None else argv)])
    rows: list[Row] = []
    skipped: dict[str, str] = {}
    here, work = Path.cwd(), Path(tempfile.mkdtemp(prefix="bench-sharing-"))
    try:
        with ExitStack() as stack:
            for kind in kinds if "fetch" in args.parts else []:
                try:
                    rows += fetch_rows(kind, start(kind, work, stack), args.scripts, args.repeat, work, args.profile)
                except (Missing, pytest.skip.Exception, pytest.fail.Exception) as exc:  # parts.require's
                    skipped[kind] = str(exc)
                print(f"{kind}: {skipped.get(kind) or 'cold fetch ' + ' '.join(rows[-3].cells()[1:])}", flush=True)
        if "validate" in args.parts:
            rows += validate_rows(args.scripts, args.repeat, work, args.profile)
    finally:
        os.chdir(here)
        for folder in [work, *(p for p in work.rglob("*") if p.is_dir() and not p.is_symlink())]:
            folder.chmod(0o700)  # the cache's trees are read-only
        shutil.rmtree(work, ignore_errors=True)
    text = report(rows, skipped, args, command)
    print("\n" + text)
    if args.output != "-":
        (ROOT / args.output).write_text(text)
    return 2 if args.sources and skipped else 1 if any(row.over for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
