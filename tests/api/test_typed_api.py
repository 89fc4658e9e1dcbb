"""The API is typed for a caller: `mypy --strict` on a caller's file outside the repository sees the installed
package (py.typed, an editable install as a plain path) and real types, not Any; importing it stays lazy."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import stackscripts
import stackscripts.api as api

ROOT = Path(__file__).resolve().parents[2]

CALLER = '''\
from pathlib import Path

from stackscripts import api
from stackscripts.api import (BLANK, Array, Controller, Cred, Env, Launcher, RunFailed, RunState, Text, deploy,
                              fleet_boot, lint, plan, reports, template_inputs, validate_template)

c = Controller(Path("audit.db"), libraries=["scripts"])
reveal_type(c.boot("web1", "t.yml", inputs={"A": "x", "B": Cred("b"), "C": Env("db1", "HOST"), "D": Array("a"), "E": BLANK}))
reveal_type(c.boot("web1", "t.yml", inputs=["A=text:x"]))
reveal_type(c.run("web1", "Script", inputs={"A": Text("x")}))
reveal_type(c.resume("r-1"))
reveal_type(c.decommission("web1"))
reveal_type(c.runs("web1"))
reveal_type(c.get_run("r-1").state)
reveal_type(c.get_run("r-1").steps[0].exit_code)
reveal_type(c.add_server("web1", "root@h"))
reveal_type(Launcher(c).launch("t.yml", "web1", inputs={"A": "x"}))
reveal_type(Launcher(c).terminate("web1"))
reveal_type(Launcher(c).reconcile()[0]["kind"])
reveal_type(fleet_boot(c, ["web1"], "t.yml", {"A": "x"}).outcomes[0].status)
reveal_type(deploy(Launcher(c), "d.yml"))
reveal_type(plan("t.yml", "boot", {"A": "x"}).steps[0].inputs[0].value)
reveal_type(template_inputs("t.yml", {"A": "x"}))
reveal_type(validate_template("t.yml"))
reveal_type(lint(["scripts"]))
reveal_type(reports.boot_table(c, ["r-1", "r-2"]))
reveal_type(reports.compare(c, "r-1").totals)
reveal_type(reports.export_run(c, "r-1"))
reveal_type(reports.write_html(c, "r-1", "x.html"))
reveal_type(api.list_scripts())
reveal_type(c.resume("r-1").state is RunState.SUCCEEDED)
reveal_type(api.show_revision(c, api.commit_template(c, "t.yml", "why").digest).record)
reveal_type(api.diff_revisions(c, "sha256:ab12", "t.yml").changed[0].inputs[0].kind)
reveal_type(api.upgrade_server(c, "web1", "ab12"))
try:
    pass
except RunFailed as exc:
    reveal_type(exc.result)
'''

EXPECTED = [
    "stackscripts.model.RunResult",
    "stackscripts.model.RunResult",
    "stackscripts.model.RunResult",
    "stackscripts.model.RunResult",
    "stackscripts.model.RunResult",
    "list[stackscripts.store.base.RunRecord]",
    "stackscripts.model.RunState",
    "int | None",
    "stackscripts.store.base.ServerRecord",
    "stackscripts.model.RunResult",
    "stackscripts.model.RunResult | None",
    "Literal['orphan'] | Literal['vanished'] | Literal['unreachable']",
    "Literal['succeeded'] | Literal['failed'] | Literal['error'] | Literal['skipped']",
    "stackscripts.api.deploy.Deployed",
    "stackscripts.model.InputValue | None",
    "list[stackscripts.model.ResolvedInput]",
    "stackscripts.plan.ResolvedTemplate",
    "list[stackscripts.catalog.lint.Finding]",
    "str",
    "tuple[float, ...]",
    "dict[str, Any]",  # JSON data, by design
    "pathlib.Path",
    "list[stackscripts.model.Script]",
    "bool",
    "stackscripts.store.base.RevisionRecord",
    "str",
    "stackscripts.store.base.ServerEvent",
    "stackscripts.model.RunResult | None",
]

MISTAKES = '''\
from stackscripts.api import Controller, Cred, reports

c = Controller()
c.boot("web1", "t.yml", inputs={"A": 5})
c.boot("web1", "t.yml", inputs=Cred("x"))
steps: str = c.boot("web1", "t.yml").steps
reports.boot_table(c, [1, 2])
c.get_run("r-1").state.name.upper().nope
c.boot("web1")
'''


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """`mypy --strict caller.py` in a folder outside the repository, as a user of the installed package runs it."""
    (tmp_path / "caller.py").write_text(source)
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / ".mypy_cache"), "caller.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_the_package_ships_py_typed_and_installs_as_a_plain_path() -> None:
    assert (Path(stackscripts.__file__).parent / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'stackscripts = \[[^\]]*"py.typed"', pyproject), "py.typed must be in package-data"
    # setuptools turns a spelled-out package-dir into a .pth path; without it, an import hook mypy cannot follow
    assert re.search(r'^package-dir = \{"" = "."\}$', pyproject, re.M)
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    hooks = list(site.glob("__editable___stackscripts_*_finder.py"))
    assert not hooks, f"{hooks[0]}: the editable install is an import hook; run .ci/setup.sh to reinstall it"


def test_a_strict_caller_gets_real_types(tmp_path: Path) -> None:
    checked = mypy(tmp_path, CALLER)
    assert ": error:" not in checked.stdout, checked.stdout
    revealed = re.findall(r'Revealed type is "(.*)"', checked.stdout)
    assert revealed == EXPECTED, checked.stdout
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_strict_caller_is_told_its_mistakes(tmp_path: Path) -> None:
    checked = mypy(tmp_path, MISTAKES)
    lines = sorted({int(n) for n in re.findall(r"^caller\.py:(\d+): error", checked.stdout, re.M)})
    assert lines == [4, 5, 6, 7, 8, 9], checked.stdout


HEAVY = ("fabric", "paramiko", "invoke", "libcloud", "docker", "click", "rich", "boto3", "botocore", "sqlalchemy",
         "psycopg")


def test_importing_the_api_stays_lazy() -> None:
    code = textwrap.dedent(f"""
        import sys
        import stackscripts.api as api
        before = sorted(m for m in sys.modules if m.startswith("stackscripts."))
        for name in api.__all__:
            getattr(api, name)
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        print(before, heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['stackscripts.api'] []", out


def test_every_public_name_is_typed_and_reachable() -> None:
    tree = ast.parse(Path(api.__file__).read_text())
    guarded = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    typed = {alias.asname or alias.name for node in guarded.body if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    assert typed == set(api.__all__)
    assert len(api.__all__) == len(set(api.__all__))
    for name in api.__all__:
        assert getattr(api, name) is not None
    assert set(api.__all__) <= set(dir(api))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        api.nope  # type: ignore[attr-defined]  # noqa: B018
