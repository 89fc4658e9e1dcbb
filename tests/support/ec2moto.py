"""libcloud's EC2 driver against a moto server: the compatibility harness, active only in tests.

moto 5.2 and libcloud 3.9 disagree on a few details that real AWS does not have. The harness
bridges them on the *test* side so the production path (stackscripts.providers.ec2) stays the
one that talks to AWS:

- moto answers with the namespace ``http://ec2.amazonaws.com/doc/2016-11-15`` while libcloud
  looks elements up under the same URI *with* a trailing slash: every lookup would come back
  empty. The harness adds the slash to successful responses.
- moto's error documents carry that namespace too (AWS's do not) and an extra ``<Type>`` element,
  which libcloud's error parser cannot read (it unpacks exactly Code and Message). The harness
  writes them the way AWS does.
- libcloud numbers ``CreateTags`` parameters from 0 (``ResourceId.0``, ``Tag.0.Key``); moto
  rejects index 0. The harness renumbers them from 1.
- moto hands out public addresses that belong to AWS (54.x.y.z). The harness maps them into
  TEST-NET-1 (192.0.2.0/24, RFC 5737) so that no test ever opens a connection to somebody
  else's machine while it waits for SSH.

(SigV4, which moto requires, is the production default; DetachVolume, which moto wants with an
InstanceId, is never called: volumes are deleted after the instance has terminated.)

In-process tests call ``activate()`` (or use the ``ec2_compat`` fixture); a CLI subprocess gets the
same patches through ``subprocess_env()``: environment for tests/support/cli.py ``run_cli`` that puts a
``sitecustomize`` calling ``activate()`` on its PYTHONPATH. The moto server is the session's ``moto_server``
fixture (tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from .moto import MotoServer

ROOT = Path(__file__).resolve().parents[2]
_OK_NS = re.compile(r'xmlns="http://ec2\.amazonaws\.com/doc/([0-9-]+)"')
_ERR_NS = re.compile(r'\s+xmlns="[^"]*"')
_ERR_TYPE = re.compile(r"<Type>[^<]*</Type>")
_PUBLIC_IP = re.compile(r"<(ipAddress|publicIp)>(\d+\.\d+\.\d+\.\d+)</\1>")
_ZERO_BASED = re.compile(r"^(ResourceId|Tag)\.(\d+)(\..*)?$")


def stand_in_address(address: str) -> str:
    """A stable stand-in for a public address inside TEST-NET-1 (never routed on the internet)."""
    return f"192.0.2.{1 + hashlib.sha256(address.encode()).digest()[0] % 254}"


def fix_body(body: str, ok: bool) -> str:
    """A moto response body rewritten as AWS would have sent it."""
    if ok:
        body = _OK_NS.sub(lambda m: f'xmlns="http://ec2.amazonaws.com/doc/{m.group(1)}/"', body, count=1)
        return _PUBLIC_IP.sub(lambda m: f"<{m.group(1)}>{stand_in_address(m.group(2))}</{m.group(1)}>", body)
    return _ERR_TYPE.sub("", _ERR_NS.sub("", body, count=1))


def renumber(params: Mapping[str, Any]) -> dict[str, Any]:
    """ResourceId.0/Tag.0.Key... -> ResourceId.1/Tag.1.Key... (only when a 0 index is present)."""
    zero = [m for m in map(_ZERO_BASED.match, params) if m and m.group(2) == "0"]
    if not zero:
        return dict(params)
    fixed: dict[str, Any] = {}
    for key, value in params.items():
        m = _ZERO_BASED.match(key)
        fixed[f"{m.group(1)}.{int(m.group(2)) + 1}{m.group(3) or ''}" if m else key] = value
    return fixed


def _classes() -> tuple[type, type]:
    from libcloud.compute.drivers import ec2

    class MotoEC2Response(ec2.EC2Response):  # type: ignore[misc]
        def _fixed(self) -> None:
            if isinstance(self.body, bytes):
                self.body = self.body.decode("utf-8", "replace")
            if self.body:
                self.body = fix_body(self.body, self.success())

        def parse_body(self) -> Any:
            self._fixed()
            return super().parse_body()

        def parse_error(self) -> Any:
            self._fixed()
            return super().parse_error()

    class MotoEC2Connection(ec2.EC2Connection):  # type: ignore[misc]
        responseCls = MotoEC2Response

        def request(self, action: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            return super().request(action, renumber(params) if params else params, *args, **kwargs)

    return MotoEC2Response, MotoEC2Connection


_saved: list[Any] = []


def activate() -> None:
    """Make every EC2NodeDriver created from now on speak moto's dialect."""
    from libcloud.compute.drivers import ec2

    if not _saved:
        _saved.append(ec2.EC2NodeDriver.connectionCls)
        ec2.EC2NodeDriver.connectionCls = _classes()[1]


def deactivate() -> None:
    from libcloud.compute.drivers import ec2

    if _saved:
        ec2.EC2NodeDriver.connectionCls = _saved.pop()


SITECUSTOMIZE = "import tests.support.ec2moto as _ec2moto\n_ec2moto.activate()\n"


def subprocess_env(folder: Path) -> dict[str, str]:
    """Environment (for run_cli's `env`) in which `python -m stackscripts ...` runs with the harness active."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": os.pathsep.join([str(folder), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def cloud_config(moto: MotoServer, **extra: Any) -> dict[str, Any]:
    """A clouds.yaml entry for an EC2 cloud served by this moto server."""
    return {"key": "testing", "secret": "testing", "region": "us-east-1", "endpoint": moto.endpoint,
            "poll_interval": 0.1, "wait_running": 30, **extra}


def write_clouds(path: Path, clouds: Mapping[str, Mapping[str, Any]]) -> Path:
    """A 0600 clouds file, as `load_clouds` demands."""
    path.write_text(yaml.safe_dump({name: dict(c) for name, c in clouds.items()}))
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return path


def boto(moto: MotoServer, service: str = "ec2") -> Any:
    """A boto3 client on the moto server, for tests to look at what the provider did."""
    import boto3

    return boto3.client(service, endpoint_url=moto.endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def an_ami(moto: MotoServer) -> str:
    """One of moto's stock AMIs (listing them takes seconds: once per server)."""
    if moto.endpoint not in _amis:
        images = boto(moto).describe_images(Owners=["amazon"])["Images"]
        _amis[moto.endpoint] = min(i["ImageId"] for i in images)
    return _amis[moto.endpoint]


_amis: dict[str, str] = {}


def instance(moto: MotoServer, node_id: str) -> dict[str, Any]:
    (reservation,) = boto(moto).describe_instances(InstanceIds=[node_id])["Reservations"]
    return reservation["Instances"][0]


def volumes_of(moto: MotoServer, node_id: str) -> list[dict[str, Any]]:
    """Volumes stackscripts created for this instance (by tag), in any state."""
    found = boto(moto).describe_volumes(Filters=[{"Name": "tag:stackscripts-instance", "Values": [node_id]}])
    return list(found["Volumes"])


@pytest.fixture
def ec2_compat() -> Iterator[None]:
    activate()
    try:
        yield
    finally:
        deactivate()


@pytest.fixture
def ec2_cloud(moto_server: MotoServer, ec2_compat: None, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """Cloud `ec2` configured in a fresh clouds file, keys and store under tmp_path."""
    write_clouds(tmp_path / "clouds.yaml", {"ec2": cloud_config(moto_server, ssh_wait=2)})
    monkeypatch.setenv("STACKSCRIPTS_CLOUDS", str(tmp_path / "clouds.yaml"))
    monkeypatch.setenv("STACKSCRIPTS_KEYS_DIR", str(tmp_path / "keys"))
    for var in [v for v in os.environ if v.startswith("STACKSCRIPTS_CLOUD_")]:
        monkeypatch.delenv(var)
    return moto_server
