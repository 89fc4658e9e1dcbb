"""The flagship benchmark's boots: the deployment's registry behind its throttling proxy, then fresh app servers."""

from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from stackscripts.api.inputs import input_layers
from stackscripts.api.launcher import Launcher
from stackscripts.deployments import Deployment, DeploymentServer, load_deployment
from stackscripts.errors import NotFound
from stackscripts.inputs.resolve import Layer

from .flagship_tables import Boot

ROOT = Path(__file__).resolve().parent.parent
# A variant: which of the deployment's servers (by its template's file name) and the inputs it gets on top.
VARIANTS = {
    "docker-parallel": ("docker-all-in-one.yaml", ("PULL_PARALLEL=text:true",)),
    "docker-sequential": ("docker-all-in-one.yaml", ("PULL_PARALLEL=text:false",)),
    "script": ("packages-all-in-one.yaml", ()),
}
MANIFEST_TYPES = ("application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")


def prepare() -> tuple[str, str]:
    """demo/prepare.sh: the images built and served from a source registry; (its address, what it said)."""
    proc = subprocess.run(["bash", str(ROOT / "demo" / "prepare.sh")], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"demo/prepare.sh failed (exit {proc.returncode}):\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1], proc.stderr


def default_credentials(deployment: Path) -> None:
    """A throwaway value for every cred: the deployment and the scripts name that the environment lacks."""
    texts = [deployment.read_text(), *(p.read_text() for p in (ROOT / "scripts").glob("*.sh"))]
    for name in sorted({n for text in texts for n in re.findall(r"cred:([A-Za-z0-9_]+)", text)}):
        os.environ.setdefault(f"STACKSCRIPTS_CRED_{name}", "bench-" + secrets.token_urlsafe(12))


def extra_ca_certificates() -> str:
    """The CAs this machine trusts besides Debian's (a TLS-inspecting proxy's), for the script version's downloads
    from the npm registry, as tests/e2e/test_seed.py gives them."""
    return "".join(p.read_text() for p in sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt")))


def text_value(raw: str) -> str:
    return raw.removeprefix("text:")


def image_bytes(source: str, images: Sequence[str]) -> int:
    """The compressed bytes of these images' unique blobs (layers and configs) in the source registry."""
    blobs: dict[str, int] = {}
    for image in images:
        repo, _, tag = image.rpartition(":")
        req = urllib.request.Request(f"http://{source}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
        with urllib.request.urlopen(req, timeout=30) as response:
            manifest = json.load(response)
        for blob in [manifest["config"], *manifest["layers"]]:
            blobs[blob["digest"]] = int(blob["size"])
    return sum(blobs.values())


@dataclass
class Bench:
    """The deployment's servers launched under a name prefix: the registry once, each variant per round."""

    launcher: Launcher
    deployment: Deployment
    prefix: str
    shared: list[Layer]  # -i inputs for every server that declares them (MIRROR_SOURCE, CA_CERTIFICATES)
    launched: list[str]
    sidecar: Path  # {server: bytes apt downloaded}, beside the audit store: what the store does not record

    @classmethod
    def load(cls, launcher: Launcher, path: Path, prefix: str, source: str, sidecar: Path) -> Bench:
        deployment = load_deployment(path)
        shared_inputs = [f"MIRROR_SOURCE=text:{source}"]
        if ca := extra_ca_certificates():
            shared_inputs.append(f"CA_CERTIFICATES=text:{ca}")
        shared = input_layers(shared_inputs, strict=False)
        return cls(launcher, deployment, prefix, shared, [], sidecar)

    def server(self, template_file: str) -> DeploymentServer | None:
        return next((s for s in self.deployment.servers if s.template.name == template_file), None)

    def registry(self) -> DeploymentServer:
        server = self.server("docker-registry.yaml")
        if server is None:
            raise SystemExit(f"{self.deployment.path}: no server from servertemplates/docker-registry.yaml")
        return server

    def renamed(self, value: str) -> str:
        """env:SERVER:NAME values pointed at this bench's instances."""
        for s in self.deployment.servers:
            value = value.replace(f"env:{s.name}:", f"env:{self.prefix}-{s.name}:")
        return value

    def layers(self, server: DeploymentServer, extra: Sequence[str]) -> list[Layer]:
        deployment = replace(self.deployment, inputs={k: self.renamed(v) for k, v in self.deployment.inputs.items()})
        mine = replace(server, inputs={k: self.renamed(v) for k, v in server.inputs.items()})
        return [deployment.layer(), deployment.server_layer(mine), *self.shared, *input_layers(list(extra))]

    def launch(self, server: DeploymentServer, name: str, extra: Sequence[str]) -> str:
        self.launched.append(name)
        result = self.launcher.launch(server.template, name, server.cloud, server.image,
                                      layers=self.layers(server, extra))
        return result.run_id

    def start_registry(self, rate: str, delay: str) -> str:
        """The registry server behind its throttling proxy, its images mirrored; the run id."""
        registry = self.registry()
        name = f"{self.prefix}-{registry.name}"
        return self.launch(registry, name, [f"REGISTRY_THROTTLE_RATE=text:{rate}", f"REGISTRY_THROTTLE_DELAY=text:{delay}"])

    def boot(self, variant: str, round_: int) -> Boot:
        """One fresh server of a variant, booted, measured, then terminated."""
        template_file, extra = VARIANTS[variant]
        server = self.server(template_file)
        if server is None:
            raise SystemExit(f"{self.deployment.path}: no server from servertemplates/{template_file} "
                             f"for the variant {variant}")
        name = f"{self.prefix}-{variant}-{round_}"
        run_id = self.launch(server, name, extra)
        c = self.launcher.c
        boot = Boot(variant, c.get_run(run_id), c.store.get_server(name), apt_cache_bytes(name))
        sizes = json.loads(self.sidecar.read_text()) if self.sidecar.exists() else {}
        self.sidecar.write_text(json.dumps({**sizes, name: boot.apt_bytes}, indent=1))
        self.launcher.terminate(name)
        return boot

    def recorded(self, variants: Sequence[str]) -> tuple[list[Boot], str, str]:
        """An earlier run's boots from this store, in round order: (boots, rate, delay of the registry's proxy)."""
        c = self.launcher.c
        registry = c.store.get_server(f"{self.prefix}-{self.registry().name}")
        rate, delay = (text_value(registry.inputs.get(k, "")) for k in ("REGISTRY_THROTTLE_RATE", "REGISTRY_THROTTLE_DELAY"))
        found: list[tuple[int, int, Boot]] = []
        sizes = json.loads(self.sidecar.read_text()) if self.sidecar.exists() else {}
        for server in c.store.list_servers():
            match = re.fullmatch(rf"{re.escape(self.prefix)}-({'|'.join(map(re.escape, variants))})-(\d+)", server.name)
            boot_runs = [r for r in c.runs(server.name, limit=1000) if r.phase == "Boot" and not r.resumed_from
                         and r.state.value == "succeeded"]
            if match and boot_runs:
                first = min(boot_runs, key=lambda r: r.started)
                found.append((int(match.group(2)), list(variants).index(match.group(1)),
                              Boot(match.group(1), c.get_run(first.id), server, sizes.get(server.name))))
        return [boot for _, _, boot in sorted(found, key=lambda f: f[:2])], rate, delay

    def images(self) -> tuple[list[str], list[str]]:
        """(service images, app images) of the Docker server, as the registry mirrors them."""
        docker = self.server("docker-all-in-one.yaml")
        inputs = docker.inputs if docker else {}

        def pick(*keys: str) -> list[str]:
            return [text_value(inputs[k]) for k in keys if k in inputs]

        return (pick("ZOOKEEPER_IMAGE", "REDIS_IMAGE", "KAFKA_IMAGE", "MARIADB_IMAGE", "GRAPHITE_IMAGE"),
                pick("APP_API_IMAGE", "APP_WORKER_IMAGE"))

    def terminate_all(self) -> None:
        """Every instance this bench launched, whatever happened: failures reported, the rest go on."""
        for name in self.launched:
            try:
                if self.launcher.c.store.get_server(name).state != "terminated":
                    self.launcher.terminate(name)
            except NotFound:  # its launch failed before the server was recorded: nothing was made
                pass
            except Exception as exc:  # report and go on: every instance must go
                print(f"terminate {name}: {exc}", file=sys.stderr)


def apt_cache_bytes(instance: str) -> int | None:
    """The bytes of the .deb files in a local instance's apt cache: what apt downloaded since the base image."""
    proc = subprocess.run(["docker", "exec", instance, "find", "/var/cache/apt/archives", "-name", "*.deb",
                           "-printf", "%s\\n"], capture_output=True, text=True)
    return sum(int(n) for n in proc.stdout.split()) if proc.returncode == 0 else None


def apt_bytes(boots: Sequence[Boot]) -> int | None:
    """The median over boots of what apt downloaded."""
    sizes = [b.apt_bytes for b in boots if b.apt_bytes is not None]
    return int(statistics.median(sizes)) if sizes else None
