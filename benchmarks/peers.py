"""The peers, pyinfra and ansible-core, each with its fast settings, from their own venv.

They are installed into benchmarks/.venv-peers (python3 -m venv + pip, pinned versions) so they
never touch the project's environment. Both run the same workload as every other tool.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .hosts import close_masters, forget_cleanup, on_cleanup, temp_dir
from .observe import run_tool
from .timing import RUN_TIMEOUT, run_checked, timed, tool_env

VENV = Path(__file__).resolve().parent / ".venv-peers"
PINS = ("pyinfra==3.10.0", "ansible-core==2.19.14")


def bin_path(name: str) -> Path:
    return VENV / "bin" / name


def ensure_venv(log: Callable[[str], None] = print) -> None:
    """Create the peers' venv and install the pinned tools, unless they are already there."""
    python = bin_path("python")
    if python.exists():
        have = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True).stdout.split()
        if all(pin in have for pin in PINS):
            return
    log(f"benchmarks: installing {', '.join(PINS)} into {VENV} (once)")
    if not python.exists():
        run_checked([sys.executable, "-m", "venv", str(VENV)], timeout=300)
    run_checked([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PINS], timeout=900)


def versions() -> dict[str, str]:
    found = {}
    for tool in ("pyinfra", "ansible"):
        try:
            out = run_checked([str(bin_path(tool)), "--version"], timeout=60).stdout.decode()
            found[tool] = out.strip().splitlines()[0]
        except (RuntimeError, OSError) as exc:
            found[tool] = f"unavailable ({exc})"
    return found


def _env() -> dict[str, str]:
    return tool_env({"PATH": f"{VENV / 'bin'}:{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(VENV)})


PYINFRA_DEPLOY = '''\
import shlex
from pyinfra import host
from pyinfra.operations import server

OUT_DIR = {out_dir!r}
BODIES = {bodies}
for n, body in enumerate(BODIES, 1):
    env = {{"OUT_DIR": OUT_DIR, "STACKSCRIPTS_SERVER": host.name, f"MSG_{{n}}": f"message-{{n}}"}}
    pairs = " ".join(f"{{k}}={{shlex.quote(v)}}" for k, v in env.items())
    server.shell(name=f"step {{n}}", commands=[f"env {{pairs}} bash -c {{shlex.quote(body)}}"])
'''


def pyinfra_run(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float = RUN_TIMEOUT) -> float:
    """`pyinfra inventory.py deploy.py -y --parallel N --no-wait`, each step a server.shell."""
    work = out_dir.parent / f"{out_dir.name}-pyinfra"
    work.mkdir(parents=True)
    hosts = [(f"web{i}", {"ssh_hostname": s.host, "ssh_port": s.port, "ssh_user": s.user, "ssh_key": s.key_path,
                          "ssh_known_hosts_file": "/dev/null", "ssh_strict_host_key_checking": "off",
                          "ssh_look_for_keys": False, "ssh_allow_agent": False})
             for i, s in enumerate(servers, 1)]
    (work / "inventory.py").write_text(f"bench = {hosts!r}\n")
    bodies = json.dumps([workload.body(n) for n in range(1, steps + 1)])
    (work / "deploy.py").write_text(PYINFRA_DEPLOY.format(out_dir=str(out_dir), bodies=bodies))
    args = [str(bin_path("pyinfra")), "inventory.py", "deploy.py", "-y", "--parallel", str(len(servers)),
            "--no-wait"]
    return timed(lambda: run_tool(args, cwd=str(work), env=_env(), timeout=timeout, workdir=work))


ANSIBLE_CFG = """\
[defaults]
host_key_checking = False
forks = {forks}
gathering = explicit
interpreter_python = /usr/bin/python3
retry_files_enabled = False
nocolor = True
local_tmp = {work}/local-tmp

[ssh_connection]
pipelining = True
ssh_args = -F /dev/null -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes
control_path_dir = {control}
control_path = %(directory)s/%%C
"""


def ansible_run(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float = RUN_TIMEOUT) -> float:
    """`ansible-playbook` with pipelining, ControlPersist, forks=N, no facts, each step a `script` task."""
    work = out_dir.parent / f"{out_dir.name}-ansible"
    scripts = workload.write_step_files(work / "steps", steps)
    control = temp_dir("bm-an-")
    close = on_cleanup(lambda: close_masters(control))
    (work / "ansible.cfg").write_text(ANSIBLE_CFG.format(forks=len(servers), work=work, control=control))
    lines = ["[bench]"] + [
        f"web{i} ansible_host={s.host} ansible_port={s.port} ansible_user={s.user} "
        f"ansible_ssh_private_key_file={shlex.quote(s.key_path)}" for i, s in enumerate(servers, 1)]
    (work / "inventory.ini").write_text("\n".join(lines) + "\n")
    tasks = []
    for n, script in enumerate(scripts, 1):
        env = {"OUT_DIR": str(out_dir), "STACKSCRIPTS_SERVER": "{{ inventory_hostname }}", f"MSG_{n}": workload.message(n)}
        tasks.append({"name": f"step {n}", "ansible.builtin.script": str(script), "environment": env})
    play = [{"hosts": "bench", "gather_facts": False, "tasks": tasks}]
    (work / "play.yml").write_text(json.dumps(play, indent=1))  # JSON is YAML
    env = _env()
    env.update(ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_HOME=str(work / "ansible-home"))
    args = [str(bin_path("ansible-playbook")), "-i", "inventory.ini", "play.yml"]
    try:
        return timed(lambda: run_tool(args, cwd=str(work), env=env, timeout=timeout, workdir=work))
    finally:
        close_masters(control)
        forget_cleanup(close)


def cold_commands() -> dict[str, list[str]]:
    return {"ansible --version": [str(bin_path("ansible")), "--version"],
            "pyinfra --version": [str(bin_path("pyinfra")), "--version"]}
