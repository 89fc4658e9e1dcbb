"""The Docker Registry server behind its throttling proxy on the local cloud: every connection as slow as a
registry across the internet, the registry itself out of reach, htpasswd auth intact."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import re
import socket
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import ROOT, Cli, docker_names

pytestmark = pytest.mark.e2e
PREFIX = "e2e-rproxy"
REGISTRY, CLIENT = f"{PREFIX}-reg", f"{PREFIX}-cli"
RATE, DELAY = 1 << 20, 0.2  # REGISTRY_THROTTLE_RATE=1m, REGISTRY_THROTTLE_DELAY=200ms
PAD = 3 << 20  # bytes of random data in the test image's one layer
USER, PASSWORD = "stackscripts", "e2e-Registry-s3cret!"  # the cli fixture's cred:REGISTRY_PASSWORD
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

TIMED_PULL = """#!/bin/bash
# ---
# RightScript Name: Timed Pull
# Description: Pulls one image and says how long the pull took.
# Inputs:
#   IMAGE:
#     Category: Test
#     Description: Image to pull.
#     Input Type: single
#     Required: true
#     Advanced: false
# ...
set -euo pipefail
start=$(date +%s.%N)
docker pull "$IMAGE" >/dev/null
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "timed pull: %.2f s\\n", b - a }'
"""


def client_template(tmp_path: Path) -> Path:
    """Install Docker, Registry Keys, then the timed pull: the registry's client, on the local cloud."""
    (tmp_path / "timed-pull.sh").write_text(TIMED_PULL)
    path = tmp_path / "client.yaml"
    path.write_text(f"""Name: Registry Client
RightScripts:
  Boot:
  - {ROOT}/scripts/install-docker.sh
  - {ROOT}/scripts/registry-keys.sh
  - {tmp_path}/timed-pull.sh
MultiCloudImages:
- Name: Debian 12
  Settings:
  - Cloud: local
    Image: stackscripts/debian:bookworm
    Instance Type: small
""")
    return path


def padded_image() -> tuple[list[bytes], bytes]:
    """(blobs: the gzipped layer of PAD random bytes and the config, the manifest): a pullable image."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("pad")
        info.size = PAD
        archive.addfile(info, io.BytesIO(os.urandom(PAD)))
    layer = gzip.compress(tar.getvalue(), compresslevel=1)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [digest(tar.getvalue())]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": digest(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": digest(layer)}]}).encode()
    return [layer, config], manifest


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def request(host: str, method: str, path: str, body: bytes | None = None, password: str | None = PASSWORD,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes, float]:
    """One request on a connection of its own to the proxy: (status, headers, body, seconds)."""
    sent = dict(headers or {})
    if password is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, 5000, timeout=60)
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data, time.monotonic() - start


def push(host: str, repository: str, tag: str) -> tuple[str, float]:
    """Push the padded image through the proxy: (the layer's digest, seconds its upload took)."""
    blobs, manifest = padded_image()
    seconds = 0.0
    for blob in blobs:
        status, headers, _, _ = request(host, "POST", f"/v2/{repository}/blobs/uploads/")
        assert status == 202, status
        location = urlsplit(headers["location"])
        query = f"{location.query}&" if location.query else ""
        status, _, _, took = request(host, "PUT", f"{location.path}?{query}digest={digest(blob)}", blob,
                                     headers={"Content-Type": "application/octet-stream"})
        assert status == 201, status
        seconds = max(seconds, took)
    status, _, _, _ = request(host, "PUT", f"/v2/{repository}/manifests/{tag}", manifest,
                              headers={"Content-Type": MANIFEST})
    assert status == 201, status
    return digest(blobs[0]), seconds


def fetch_twice(host: str, path: str) -> tuple[list[float], float]:
    """The same blob on two connections at once: (each one's seconds, the wall time)."""
    times: list[float] = []

    def one() -> None:
        status, _, body, took = request(host, "GET", path)
        assert status == 200 and len(body) >= PAD, status
        times.append(took)

    threads = [threading.Thread(target=one) for _ in range(2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, time.monotonic() - start


@pytest.mark.timeout(300)
def test_registry_behind_the_throttling_proxy(cli: Cli, tmp_path: Path) -> None:
    registry_tpl = str(ROOT / "servertemplates" / "docker-registry.yaml")
    client = None
    try:
        code, doc = cli.json("launch", registry_tpl, "--name", REGISTRY, "-i", "REGISTRY_THROTTLE_RATE=text:1m",
                             "-i", "REGISTRY_THROTTLE_DELAY=text:200ms")
        assert code == 0, doc
        # the client boots (Docker installed, then a login with the wrong password) while the host probes
        client = cli.spawn("launch", str(client_template(tmp_path)), "--name", CLIENT,
                           "-i", f'REGISTRY_HOSTS=array:["env:{REGISTRY}:PRIVATE_IP"]', "-i", "REGISTRY_PORT=text:5000",
                           "-i", f"REGISTRY_USERNAME=text:{USER}", "-i", "REGISTRY_INSECURE=text:true",
                           "-i", "REGISTRY_PASSWORD=cred:WRONG_PASSWORD", "-i", "IMAGE=text:pending")
        _, shown = cli.json("servers", "show", REGISTRY)
        host = shown["data"]["extra"]["private_ip"]

        # each request waits the added latency; the credentials are checked through the proxy
        status, _, _, took = request(host, "GET", "/v2/", password=None)
        assert status == 401 and took >= DELAY, (status, took)
        assert request(host, "GET", "/v2/", password="not-the-password")[0] == 401
        assert request(host, "GET", "/v2/")[0] == 200
        # the registry itself listens on 127.0.0.1:5001 of its server only
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, 5001), timeout=10).close()

        # an upload and each download carry at most 1 MB/s per connection, two connections at once each as much
        layer, upload = push(host, "e2e/padded", "1")
        assert upload >= PAD / RATE, upload
        times, wall = fetch_twice(host, f"/v2/e2e/padded/blobs/{layer}")
        assert min(times) >= PAD / RATE and wall < 1.6 * PAD / RATE, (times, wall)

        # a wrong password: the client's boot stops at Registry Keys with a clear message, the server stranded
        out, err = client.communicate(timeout=240)
        assert client.returncode == 1, out + err
        assert f"docker login to {host}:5000 failed: check REGISTRY_USERNAME and REGISTRY_PASSWORD" in out + err
        assert "e2e-Wrong-pa55word!" not in out + err
        _, state = cli.json("servers", "show", CLIENT)
        assert state["data"]["state"] == "stranded"
        run_id = re.search(r"stackscripts resume (r-[0-9a-f-]+)", out + err)
        assert run_id, out + err

        # the right password: the boot resumes, and docker pulls the image through the proxy at its pace
        done = cli.run("resume", run_id.group(1), "-i", "REGISTRY_PASSWORD=cred:REGISTRY_PASSWORD",
                       "-i", f"IMAGE=text:{host}:5000/e2e/padded:1", timeout=240)
        assert done.returncode == 0, done.stdout + done.stderr
        pulled = re.search(r"timed pull: ([0-9.]+) s", done.stdout + done.stderr)
        assert pulled and float(pulled.group(1)) >= PAD / RATE, done.stdout
        _, client_shown = cli.json("servers", "show", CLIENT)
        client_ip = client_shown["data"]["extra"]["private_ip"]
        log = subprocess.run(["docker", "exec", REGISTRY, "cat", "/var/log/stackscripts-registry-proxy.log"],
                             capture_output=True, text=True, check=True).stdout
        assert "1048576 B/s per connection each way, 200 ms added to each request" in log
        downs = [int(m) for m in re.findall(rf"^registry-proxy: {re.escape(client_ip)}:\d+: up \d+ B, down (\d+) B",
                                            log, re.MULTILINE)]
        assert downs and max(downs) >= PAD, log
    finally:
        if client is not None and client.poll() is None:
            client.terminate()  # SIGTERM: the launch destroys what it made
            client.communicate(timeout=120)
        code, term = cli.json("terminate", CLIENT, REGISTRY)
    assert code == 0, term
    assert docker_names(PREFIX) == []
