"""Rendered bundles run with real bash: values reach $NAME byte-exact and are never executed."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from stackscripts import api

NASTY = {
    "quotes": "it's \"quoted\" and 'single'",
    "subst": "$(touch PWNED) and ${HOME} and $HOME",
    "backticks": "`touch PWNED2`",
    "newlines": "line1\nline2\n\nline4\n",
    "glob": "* ? [a-z] ~",
    "unicode": "héllo wörld ☃ 日本語 \u200b",
    "semicolons": "a; rm -rf / ; b && c || d | e > f < g",
    "backslashes": "a\\nb\\\\c\\",
    "equals": "A=B=C",
    "leading_dash": "-e -n --help",
    "big": ("0123456789abcdef" * 6400) + "\nend",  # 100 KB
}


@pytest.fixture
def echo_template(make_script, tmp_path: Path) -> Path:
    make_script("Echo", 'printf "%s" "$VALUE" > "$OUT_FILE"\nls > "$OUT_FILE.cwd"\n',
                inputs={"VALUE": None, "OUT_FILE": None})
    template = tmp_path / "servertemplates" / "echo.yaml"
    template.parent.mkdir()
    template.write_text("Name: Echo\nRightScripts:\n  Boot:\n  - ../scripts/echo.sh\n")
    return template


@pytest.mark.parametrize("case", sorted(NASTY))
def test_value_reaches_script_byte_exact(case: str, echo_template: Path, tmp_path: Path) -> None:
    value = NASTY[case]
    out_file = tmp_path / "out.bin"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    bundles = api.render_bundles(echo_template, tmp_path / "bundles",
                                 overrides=[f"VALUE=text:{value}", f"OUT_FILE=text:{out_file}"])
    env_file = bundles[0] / "env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    result = subprocess.run(["bash", str(bundles[0] / "run.sh")], cwd=workdir, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert out_file.read_bytes() == value.encode("utf-8")
    assert not env_file.exists(), "the env file is removed once loaded"
    assert not (workdir / "PWNED").exists() and not (workdir / "PWNED2").exists()
    assert list(workdir.iterdir()) == []
    assert (tmp_path / "out.bin.cwd").read_text() == "", "the step starts in a fresh empty directory"


def test_script_without_shebang_runs_with_bash_e(make_script, tmp_path: Path) -> None:
    make_script("NoShebang", "false\necho not reached\n", shebang="")
    template = tmp_path / "t.yaml"
    template.write_text("Name: T\nRightScripts:\n  Boot:\n  - scripts/noshebang.sh\n")
    bundles = api.render_bundles(template, tmp_path / "b")
    result = subprocess.run(["bash", str(bundles[0] / "run.sh")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "not reached" not in result.stdout


def test_interpreter_by_shebang(make_script, tmp_path: Path) -> None:
    make_script("Py", 'import os\nprint("py", os.environ["WHO"])\n',
                inputs={"WHO": "text:me"}, shebang="#!/usr/bin/env python3")
    template = tmp_path / "t.yaml"
    template.write_text("Name: T\nRightScripts:\n  Boot:\n  - scripts/py.sh\n")
    bundles = api.render_bundles(template, tmp_path / "b")
    result = subprocess.run(["bash", str(bundles[0] / "run.sh")], capture_output=True, text=True)
    assert result.stdout == "py me\n"


def test_j2_attachment_rendered_and_runtime_env(make_script, tmp_path: Path) -> None:
    make_script("Conf", 'cat "$RS_ATTACH_DIR/app.conf"\necho "pk=$RS_PACKAGES"\n',
                inputs={"PORT": "text:8080"},
                attachments={"app.conf.j2": "port={{ PORT }}\n"})
    template = tmp_path / "t.yaml"
    template.write_text("Name: T\nRightScripts:\n  Boot:\n  - scripts/conf.sh\n")
    bundles = api.render_bundles(template, tmp_path / "b", overrides=["PORT=text:9090"])
    result = subprocess.run(["bash", str(bundles[0] / "run.sh")], capture_output=True, text=True)
    assert result.stdout == "port=9090\npk=\n"


def test_secrets_left_out_unless_asked(make_script, tmp_path: Path, monkeypatch) -> None:
    make_script("Sec", 'echo "${PASSWORD:-none}"\n',
                inputs={"PASSWORD": "cred:DB_PASSWORD"})
    template = tmp_path / "t.yaml"
    template.write_text("Name: T\nRightScripts:\n  Boot:\n  - scripts/sec.sh\n")
    monkeypatch.setenv("STACKSCRIPTS_CRED_DB_PASSWORD", "s3cr3t value")
    plain = api.render_bundles(template, tmp_path / "plain")
    assert b"s3cr3t" not in (plain[0] / "env").read_bytes()
    with_secret = api.render_bundles(template, tmp_path / "secret", include_secrets=True)
    result = subprocess.run(["bash", str(with_secret[0] / "run.sh")], capture_output=True, text=True)
    assert result.stdout == "s3cr3t value\n"
    assert os.stat(with_secret[0]).st_mode & 0o077 == 0
