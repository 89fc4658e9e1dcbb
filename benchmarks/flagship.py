"""`python -m benchmarks.flagship`: the flagship on the local cloud, from a distant registry, measured.

The deployment's registry server (deployments/seed.yaml when it exists, else deployments/demo.yaml) boots behind
its throttling proxy (REGISTRY_THROTTLE_RATE, REGISTRY_THROTTLE_DELAY), so that every connection to it is as slow
as a registry across the internet. Then, round after round, one fresh server of each variant boots and is
terminated: the Docker version pulling its five off-the-shelf images in parallel, the same in sequence, and the
script version (Debian packages). Medians over the rounds; writes docs/performance-flagship.md.
`--from-store DB` writes the page again from an earlier run's audit store, without booting anything.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .flagship_boots import ROOT, VARIANTS, Bench, apt_bytes, default_credentials, image_bytes, prepare
from .flagship_tables import Boot, group, pull_table, seed_table, totals_line

SEED_DEPLOYMENT = ROOT / "deployments" / "seed.yaml"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.flagship", description=__doc__.splitlines()[0])
    p.add_argument("--deployment", type=Path, default=None,
                   help="deployment to measure (default: deployments/seed.yaml if it exists, else deployments/demo.yaml)")
    p.add_argument("--rate", default="2m", help="REGISTRY_THROTTLE_RATE: bytes a second per connection (default 2m)")
    p.add_argument("--delay", default="100ms", help="REGISTRY_THROTTLE_DELAY: latency per request (default 100ms)")
    p.add_argument("--rounds", type=int, default=3, help="boots of each variant; medians are reported (default 3)")
    p.add_argument("--variants", default=None,
                   help=f"comma-separated, of {', '.join(VARIANTS)} (default: those the deployment has servers for)")
    p.add_argument("--prefix", default="bench-flag", help="instance name prefix")
    p.add_argument("--output", default="docs/performance-flagship.md")
    p.add_argument("--from-store", type=Path, default=None, metavar="DB",
                   help="write the page from an earlier run's audit store (its path is printed at the end of a run)")
    args = p.parse_args(argv)
    args.deployment = args.deployment or (SEED_DEPLOYMENT if SEED_DEPLOYMENT.exists() else ROOT / "deployments" / "demo.yaml")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.variants is not None:
        args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = [v for v in args.variants if v not in VARIANTS]
        if unknown:
            p.error(f"--variants: unknown {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    return args


def command_line(args: argparse.Namespace) -> str:
    parts = ["python -m benchmarks.flagship", f"--rate {args.rate}", f"--delay {args.delay}", f"--rounds {args.rounds}",
             f"--variants {','.join(args.variants)}"]
    if args.deployment.resolve() not in (SEED_DEPLOYMENT, ROOT / "deployments" / "demo.yaml"):
        parts.append(f"--deployment {args.deployment}")
    if args.prefix != "bench-flag":
        parts.append(f"--prefix {args.prefix}")
    return " ".join(parts)


def mb(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 1e6:.0f} MB"


def sizes(source: str, images: Sequence[str]) -> str:
    """'420 MB (zookeeper 150 MB, redis 90 MB)': the unique total, then each image alone."""
    each = ", ".join(f"{i.rpartition('/')[2].partition(':')[0]} {mb(image_bytes(source, [i]))}" for i in images)
    return f"{mb(image_bytes(source, images))} ({each})"


def document(args: argparse.Namespace, boots: Sequence[Boot], source: str, prepared: str, bench: Bench) -> str:
    """The Markdown page: settings, where the bytes came from, the two tables, each round's totals."""
    by = group(boots)
    services, apps = bench.images()
    docker = by.get("docker-parallel") or by.get("docker-sequential") or []
    counts = ", ".join(f"{variant} {len(group_)}" for variant, group_ in by.items())
    docker_name = "Docker version, parallel pulls" if by.get("docker-parallel") else "Docker version, pulls in sequence"
    ssh = [float(b.server.extra["ssh_ready"]) - float(b.server.extra["launch_started"]) for b in boots
           if b.server.extra.get("ssh_ready") and b.server.extra.get("launch_started")]
    lines = [
        "# The flagship on the local cloud, from a distant registry, measured",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.node()}: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; `{command_line(args)}` (deployment "
        f"`{args.deployment.relative_to(ROOT) if args.deployment.is_relative_to(ROOT) else args.deployment}`, "
        "images as demo/prepare.sh builds them" + ("; Kafka is a stand-in" if "kafka is a stand-in" in prepared
                                                  else "") + ").",
        "",
        f"**The distant registry**: the registry server boots behind its throttling proxy with "
        f"`REGISTRY_THROTTLE_RATE={args.rate}` (bytes a second per connection, each way) and "
        f"`REGISTRY_THROTTLE_DELAY={args.delay}` (added to each request); the app servers' dockerd pulls through it. "
        f"Each round boots one fresh server of each variant, one after the other, and terminates it; every figure "
        f"is the median of that variant's boots ({counts}; each listed at the end).",
        "",
        "Where each version's bytes came from:",
        "",
        f"- Docker version: the five service images, {sizes(source, services)}, and the two app images, "
        f"{sizes(source, apps)}, from the registry server through the proxy (compressed; a layer that images "
        f"share is counted once in a total); Docker itself, {mb(apt_bytes(docker))} of Debian packages (the .deb "
        "files in apt's cache after the boot, median), from the Debian mirror the local cloud uses.",
        f"- Script version: {mb(apt_bytes(by['script']))} of Debian packages from the same mirror, and StatsD "
        "from the npm registry; neither goes through the proxy." if "script" in by else
        "- Script version: not measured in this run.",
        "",
    ]
    if ssh:
        lines += [f"Local instance launch to SSH (median of {len(ssh)}): **{statistics.median(ssh):.2f} s**.", ""]
    if "docker-parallel" in by and "docker-sequential" in by:
        lines += ["## The off-the-shelf images pulled in parallel and in sequence", "",
                  "The Docker version, `PULL_PARALLEL=true` against `false` (Launch Service Containers pulls the "
                  "five service images; Launch Application Containers the two app images, in parallel either way):",
                  "", *pull_table(by["docker-parallel"], by["docker-sequential"]), ""]
    if "script" in by:
        lines += ["## The Docker version against the script version, by the seed's rows", "",
                  f"Left: the {docker_name}. Steps grouped by what they do: each step's `Stage` in its template "
                  "(`RULES` in benchmarks/flagship_tables.py for runs recorded without one); the check of every "
                  "service at its protocol is counted in the apps row. TOTAL is the median of each boot's total, "
                  "so the rows need not add up to it. The seed's figures (its Docker version pulled from Docker Hub) "
                  "are beside them.", "",
                  *seed_table(docker, by["script"]), ""]
    else:
        lines += ["The script version was not measured: " + (
            "run with `--variants` naming `script`." if bench.server("packages-all-in-one.yaml") else
            f"{args.deployment.name} has no server from servertemplates/packages-all-in-one.yaml."), ""]
    lines += ["Each boot's total (run id):", "", *(totals_line(v, bs) for v, bs in by.items()), "",
              "The proxy is `scripts/attachments/registry-proxy.py` (see servertemplates/docker-registry.yaml). "
              "To measure again: `make bench` (or the command above); to write this page again from the audit "
              "store of a run: `python -m benchmarks.flagship --from-store DB`.", ""]
    return "\n".join(lines)


def measure(args: argparse.Namespace, bench: Bench, workdir: Path) -> list[Boot]:
    """The registry behind its proxy, then each variant's boot, round after round; every instance terminated."""
    boots: list[Boot] = []
    try:
        bench.start_registry(args.rate, args.delay)
        for round_ in range(1, args.rounds + 1):
            for variant in args.variants:
                print(f"· round {round_}/{args.rounds}: {variant}", file=sys.stderr, flush=True)
                boots.append(bench.boot(variant, round_))
    finally:
        bench.terminate_all()
        print(f"(the audit store of these boots: {workdir / 'audit.db'})", file=sys.stderr)
    return boots


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from stackscripts.api.controller import Controller
    from stackscripts.api.launcher import Launcher
    from stackscripts.errors import RunFailed, StackscriptsError

    default_credentials(args.deployment)
    source, prepared = prepare()
    workdir = Path(tempfile.mkdtemp(prefix="stackscripts-flagship-"))
    os.environ["STACKSCRIPTS_KEYS_DIR"] = str(workdir / "keys")
    try:
        with Controller(args.from_store or workdir / "audit.db") as c:
            store = Path(args.from_store or workdir / "audit.db")
            bench = Bench.load(Launcher(c, lambda m: print("·", m, file=sys.stderr, flush=True)), args.deployment,
                               args.prefix, source, store.with_name(store.name + ".apt-bytes.json"))
            if args.variants is None:
                args.variants = [v for v, (tpl, _) in VARIANTS.items() if bench.server(tpl) is not None]
            if args.from_store:
                boots, args.rate, args.delay = bench.recorded(args.variants)
                args.variants = [v for v in args.variants if any(b.variant == v for b in boots)]
                args.rounds = max((sum(b.variant == v for b in boots) for v in args.variants), default=0)
                if not boots:
                    raise SystemExit(f"{args.from_store}: no boots of {args.prefix}-VARIANT-ROUND servers")
            else:
                boots = measure(args, bench, workdir)
            doc = document(args, boots, source, prepared, bench)
    except StackscriptsError as exc:  # bad input, or a failed boot: its step and why
        print(f"benchmarks.flagship: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, RunFailed) else 2
    except KeyboardInterrupt:  # every instance was terminated on the way out
        return 130
    (ROOT / args.output).write_text(doc + "\n")
    print(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
