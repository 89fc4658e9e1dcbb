"""The seed's experiment on the local cloud: deployments/seed.yaml boots the Docker version and the script version
of the all-in-one application side by side; each service is proved at its protocol and both columns are reported."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, Cli, docker_names

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]  # a cold run builds the images first (~2.5 min)
PREFIX = "e2e-seed"
REGISTRY, DOCKER, PACKAGES = f"{PREFIX}-registry", f"{PREFIX}-docker", f"{PREFIX}-pkg"
ROOT_PASSWORD = "e2e-MariaDB-s3cret!"  # the cli fixture's MARIADB_ROOT_PASSWORD credential

# What Check Services prints for each service once it answered at its protocol (both versions).
PROTOCOL_LINES = [
    r"zookeeper: ruok -> imok; srvr -> Zookeeper version: 3\.8\.\d+, Mode: standalone",
    r"redis: PING -> PONG",
    r"mariadb: SELECT 1 as app@127\.0\.0\.1:3306 -> 1 \(MariaDB 10\.11\.\d+",
    r"kafka: STAND-IN, not Apache Kafka: port 9092 answers 'stand-in kafka: not Apache Kafka'",
    r"app-api: POST /items -> id (\d+); GET /items/\1 -> name check-n\d+ from MariaDB and from Redis",
    r"app-worker: processed item \d+ at \S+; status \{\"processed\":[1-9]",
    r"graphite-web: GET /render\?target=carbon\.agents\.\*&format=json -> HTTP 200, JSON",
    r"carbon: check\.carbon\.n\d+ 42 sent to TCP 2003, read back over graphite-web's render API",
    r"statsd: check\.statsd\.n\d+:42\|g sent to UDP 8125, read back as stats\.gauges\.check\.statsd\.n\d+",
]


def seed_deployment(tmp_path: Path) -> Path:
    """deployments/seed.yaml with server names of this test (templates made absolute)."""
    text = (ROOT / "deployments" / "seed.yaml").read_text()
    text = text.replace("../servertemplates/", f"{ROOT}/servertemplates/")
    for name, new in (("registry", REGISTRY), ("app-docker", DOCKER), ("app-packages", PACKAGES)):
        text = re.sub(rf"Name: {name}\b", f"Name: {new}", text)
    text = text.replace("env:registry:", f"env:{REGISTRY}:")
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def extra_ca_certificates() -> str:
    """The CAs this machine trusts besides Debian's (a TLS-inspecting proxy's): the script version needs them to
    fetch StatsD from the npm registry as this machine does."""
    return "".join(p.read_text() for p in sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt")))


@pytest.fixture
def source_registry() -> str:
    """demo/prepare.sh: the images built (cached by recipe digest) and served on docker0; its address."""
    proc = subprocess.run(["bash", str(ROOT / "demo" / "prepare.sh")], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture
def seed(cli: Cli, tmp_path: Path, source_registry: str) -> Iterator[dict[str, Any]]:
    """The deployed seed ({server: outcome}); every server is terminated at the end, whatever happened."""
    inputs = ["-i", f"MIRROR_SOURCE=text:{source_registry}"]
    if ca := extra_ca_certificates():
        inputs += ["-i", f"CA_CERTIFICATES=text:{ca}"]
    try:
        code, doc = cli.json("deploy", str(seed_deployment(tmp_path)), *inputs, timeout=1500)
        assert code == 0 and doc["ok"], doc
        yield {s["server"]: s for s in doc["data"]["servers"]}
    finally:
        _, listing = cli.json("servers", "list")
        launched = [s["name"] for s in listing["data"] or [] if s["state"] != "terminated"]
        if launched:
            code, term = cli.json("terminate", *launched)
            assert code == 0, term
        assert docker_names(PREFIX) == []


def worker_metrics(server: str) -> list[float]:
    """The worker's StatsD counter as graphite-web renders it on the server (waits up to 30 s for a flush)."""
    url = "http://127.0.0.1/render?target=stats_counts.app.worker.items_processed&from=-15min&format=json"
    deadline = time.monotonic() + 30
    while True:
        out = subprocess.run(["docker", "exec", server, "curl", "-fsS", url], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        points = [p[0] for series in json.loads(out.stdout) for p in series["datapoints"] if p[0]]
        if points or time.monotonic() > deadline:
            return points
        time.sleep(2)


def step_log(cli: Cli, run: dict[str, Any], name: str) -> str:
    """The recorded output of the run's step called name."""
    (index,) = [i for i, s in enumerate(run["steps"], 1) if s["name"] == name]
    code, log = cli.json("runs", "log", run["run_id"], str(index))
    assert code == 0, log
    return str(log["data"]["text"])


def test_seed_both_versions_end_to_end(cli: Cli, tmp_path: Path, seed: dict[str, Any]) -> None:
    assert {name: seed[name]["status"] for name in (REGISTRY, DOCKER, PACKAGES)} == dict.fromkeys(
        (REGISTRY, DOCKER, PACKAGES), "succeeded")
    docker_run, packages_run = seed[DOCKER]["run"], seed[PACKAGES]["run"]
    # The steps map onto the seed's rows: prep VM environment, install and launch the services, install ruby
    # (script version only), install and launch the apps, and the check.
    assert [s["name"] for s in docker_run["steps"]] == [
        "Install Docker", "Setup Btrfs Docker Root", "Registry Keys",
        "Launch Service Containers", "Launch Application Containers", "Check Services"]
    assert [s["name"] for s in packages_run["steps"]] == [
        "Packages Prep", "Packages Install Services", "Packages Install Kafka (Stand-in)", "Packages Install Graphite",
        "Packages Install StatsD", "Packages Install Ruby", "Packages Launch Apps", "Check Services"]

    # Each service answered at its protocol, in both versions (the check step's recorded output).
    for run in (docker_run, packages_run):
        text = step_log(cli, run, "Check Services")
        for line in PROTOCOL_LINES:
            assert re.search(rf"^stackscripts: {line}", text, re.MULTILINE), (run["server"], line, text)
        assert "stackscripts: all 9 services answer at their protocol" in text
    # The worker sent its metrics to StatsD, which flushed them to carbon: graphite-web renders them.
    for server in (DOCKER, PACKAGES):
        assert sum(worker_metrics(server)) >= 1, server
    assert "pulled 5 images" in step_log(cli, docker_run, "Launch Service Containers")
    assert "statsd-install: fetched statsd@0.9.0 from https://registry.npmjs.org" in step_log(
        cli, packages_run, "Packages Install StatsD")

    # The audit store: both boot runs succeeded, and their report has both columns and a TOTAL.
    for run in (docker_run, packages_run):
        code, shown = cli.json("runs", "show", run["run_id"])
        assert code == 0 and shown["data"]["state"] == "succeeded", shown
    code, report = cli.json("report", docker_run["run_id"], packages_run["run_id"])
    assert code == 0, report
    assert [(r["server"], r["state"]) for r in report["data"]["runs"]] == [(DOCKER, "succeeded"), (PACKAGES, "succeeded")]
    totals = report["data"]["totals"]
    assert len(totals) == 2 and all(isinstance(s, float) and s > 0 for s in totals), report["data"]
    table = cli.run("report", docker_run["run_id"], packages_run["run_id"]).stdout
    assert re.search(rf"^\| Boot time steps \| {DOCKER} \S+ \| {PACKAGES} \S+ \| delta \|$", table, re.MULTILINE)
    assert re.search(r"^\| TOTAL \| \S+ \| \S+ \| \S+ \|$", table, re.MULTILINE), table
    # Rows by the templates' Stage: the seed's rows, with Install ruby n/a in the Docker version.
    labels = [row["step"] for row in report["data"]["rows"]]
    assert labels == ["Launch and boot (instance to SSH)", "Prep VM environment",
                      "Install & launch zookeeper, redis, kafka, mariadb, graphite, statsd", "Install ruby",
                      "Install & launch custom apps"], labels
    assert re.search(r"^\| Install ruby \| n/a \| \S+ \| n/a \|$", table, re.MULTILINE), table

    # A service that never answers: the check names it and why, shows its last log lines, and fails.
    subprocess.run(["docker", "exec", PACKAGES, "/etc/init.d/redis-server", "stop"], check=True, capture_output=True)
    subprocess.run(["docker", "exec", DOCKER, "docker", "stop", "redis"], check=True, capture_output=True)
    for server, logs in ((PACKAGES, "the end of /var/log/redis/redis-server.log"),
                         (DOCKER, "container redis is exited")):
        failed = cli.run("run", server, "check-services", "-i", "CHECK_TIMEOUT=text:3")
        out = failed.stdout + failed.stderr
        assert failed.returncode == 1, out
        assert re.search(r"ERROR: redis: no connection to 127\.0\.0\.1:6379 \(.*Connection refused\)", out), out
        assert logs in out and "ERROR: app-api: " in out, out
        assert re.search(r"ERROR: \d of 9 services failed their check: redis app-api", out), out
        assert "Traceback" not in out

    # A missing image: the failing step names the image and why.
    missing = cli.run("run", DOCKER, "roll-image", "-i", "CONTAINER=text:redis", "-i", "IMAGE=text:stackscripts/nope:demo")
    assert missing.returncode == 1
    assert re.search(r"docker pull \S+/stackscripts/nope:demo failed", missing.stdout + missing.stderr), missing.stderr

    # No secret in the store: the root password is a credential; the app user's was made on each server.
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("audit.db*"))
    assert ROOT_PASSWORD.encode() not in db_bytes
