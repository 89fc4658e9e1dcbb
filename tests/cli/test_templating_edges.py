"""Templating edges through the real CLI: .j2 attachments under render -o and --cloud-init, an all-or-nothing -o,
scaffold on hand-written blocks, lint of .j2 attachments and login variables, templates given to lint/scaffold,
and lint with no argument."""

from __future__ import annotations

import base64
import gzip
import io
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.support.cli import cli_json, no_traceback, run_cli
from tests.unit.helpers import GOLDEN

pytestmark = pytest.mark.timeout(300)

RUN_ID = re.compile(r"r-\d{8}-\d{6}-[0-9a-f]{4}")
SCRIPT = """\
#!/bin/bash
# ---
# RightScript Name: Motd
# Inputs:
#   GREETING:
#     Input Type: single
#     Default: text:hello
# Attachments:
# - motd.j2
# ...
printf '%s %s\\n' "$STACKSCRIPTS_SERVER" "$STACKSCRIPTS_RUN_ID" > "$OUT"
cat "$RS_ATTACH_DIR/motd" >> "$OUT"
"""
MOTD = "{{ GREETING }} from {{ STACKSCRIPTS_SERVER }}, run {{ STACKSCRIPTS_RUN_ID }}\n"
BROKEN = """\
#!/bin/bash
# ---
# RightScript Name: Broken
# Inputs: {}
# Attachments:
# - bad.j2
# ...
cat "$RS_ATTACH_DIR/bad"
"""


def project(tmp_path: Path, *, broken: bool = False) -> Path:
    """lib/motd.sh (+ lib/broken.sh, whose .j2 reads an undeclared variable) and the template using them."""
    lib = tmp_path / "lib"
    (lib / "attachments").mkdir(parents=True)
    (lib / "motd.sh").write_text(SCRIPT.replace('"$OUT"', f'"{tmp_path}/seen"'))
    (lib / "attachments" / "motd.j2").write_text(MOTD)
    (lib / "broken.sh").write_text(BROKEN)
    (lib / "attachments" / "bad.j2").write_text("{{ NOT_DECLARED }}\n")
    template = tmp_path / "servertemplates" / "web-tier.yaml"
    template.parent.mkdir()
    boot = "  - ../lib/motd.sh\n" + ("  - ../lib/broken.sh\n" if broken else "")
    template.write_text(f"Name: Web\nRightScripts:\n  Boot:\n{boot}")
    return template


def ok(*args: str, code: int = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = run_cli(*args, env=env)
    assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    no_traceback(done.stdout + done.stderr)
    return done


def test_j2_renders_the_runtime_variables_under_render_o(tmp_path: Path) -> None:
    template = project(tmp_path)
    out = tmp_path / "bundles"
    ok("templates", "render", str(template), "-o", str(out))
    rendered = (out / "01-motd" / "attachments" / "motd").read_text()
    match = re.fullmatch(rf"hello from web-tier, run ({RUN_ID.pattern})\n", rendered)
    assert match, rendered  # the server defaults to the template's file stem
    env = dict(i.split("=", 1) for i in (out / "01-motd" / "env").read_text().split("\0") if i)
    assert (env["STACKSCRIPTS_SERVER"], env["STACKSCRIPTS_RUN_ID"]) == ("web-tier", match.group(1))
    subprocess.run(["bash", str(out / "01-motd" / "run.sh")], check=True, timeout=30)
    assert (tmp_path / "seen").read_text() == f"web-tier {match.group(1)}\n{rendered}"  # the step saw the same

    ok("templates", "render", str(template), "-o", str(out), "--server", "web7")  # replaces the earlier render
    assert (out / "01-motd" / "attachments" / "motd").read_text().startswith("hello from web7, run r-")
    assert [p.name for p in out.iterdir()] == ["01-motd"]


def test_failed_render_o_leaves_nothing_behind(tmp_path: Path) -> None:
    template = project(tmp_path, broken=True)
    out = tmp_path / "new" / "bundles"
    done = run_cli("templates", "render", str(template), "-o", str(out))
    assert not (tmp_path / "new").exists()  # neither the half-written folder nor the parent made for it
    assert done.returncode == 2 and "NOT_DECLARED" in done.stderr and "bad.j2" in done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    previous = tmp_path / "previous"
    ok("templates", "render", str(project(tmp_path / "ok")), "-o", str(previous))
    before = {p.relative_to(previous): p.read_bytes() for p in previous.rglob("*") if p.is_file()}
    ok("templates", "render", str(template), "-o", str(previous), code=2)
    assert {p.relative_to(previous): p.read_bytes() for p in previous.rglob("*") if p.is_file()} == before


def test_render_o_onto_a_file_or_a_foreign_folder_is_bad_input(tmp_path: Path) -> None:
    template = project(tmp_path)
    afile = tmp_path / "notes.txt"
    afile.write_text("mine\n")
    done = ok("templates", "render", str(template), "-o", str(afile), code=2)
    assert done.stderr.startswith(f"stackscripts: error: {afile}: exists and is not a folder")
    assert afile.read_text() == "mine\n"
    doc = cli_json("templates", "render", str(template), "-o", str(afile), code=2)
    assert (doc["error"]["type"], doc["error"]["file"]) == ("BadInput", str(afile))

    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / ".bashrc").write_text("keep\n")
    done = ok("templates", "render", str(template), "-o", str(foreign), code=2)
    assert "holds other files than the bundles of an earlier render" in done.stderr
    assert [p.name for p in foreign.iterdir()] == [".bashrc"]


def payload_files(user_data: str) -> dict[str, bytes]:
    """Every file the user-data writes, tar payloads unpacked (whatever the packing: b64, gz+b64, tar)."""
    files: dict[str, bytes] = {}
    for item in yaml.safe_load(user_data)["write_files"]:
        encoding = item.get("encoding", "")
        data = base64.b64decode(item["content"]) if "b64" in encoding or "base64" in encoding else \
            item["content"].encode()
        if encoding.startswith(("gz", "gzip")) or data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar.getmembers():
                    handle = tar.extractfile(member) if member.isfile() else None
                    if handle is not None:
                        files[f"{item['path']}!{member.name}"] = handle.read()
        except tarfile.TarError:
            files[item["path"]] = data
    return files


def test_j2_renders_the_runtime_variables_under_cloud_init(tmp_path: Path) -> None:
    template = project(tmp_path)
    user_data = ok("templates", "render", str(template), "--cloud-init", "--server", "edge1").stdout
    motd = [data for data in payload_files(user_data).values() if data.startswith(b"hello from ")]
    assert len(motd) == 1 and re.fullmatch(rb"hello from edge1, run r-\d{8}-\d{6}-[0-9a-f]{4}\n", motd[0]), motd


def test_scaffold_on_a_hand_written_block_adds_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "hand-written.sh"
    path.write_text((GOLDEN / "scaffold" / "hand-written.sh").read_text())
    done = ok("scripts", "scaffold", str(path))
    assert "inputs added: TLS_MODE; attachments added: robots.txt" in done.stdout
    assert path.read_text() == (GOLDEN / "scaffold" / "hand-written.expected.sh").read_text()


def test_scaffold_names_a_j2_attachment_as_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "lib" / "site.sh"
    (tmp_path / "lib" / "attachments").mkdir(parents=True)
    (tmp_path / "lib" / "attachments" / "site.conf.j2").write_text("listen {{ PORT }};\n")
    path.write_text('#!/bin/bash\ncp "$RS_ATTACH_DIR/site.conf" /etc/nginx/conf.d/\necho "$SSH_CONNECTION $HOME"\n')
    data = cli_json("scripts", "scaffold", str(path))["data"]
    assert (data["added_inputs"], data["added_attachments"]) == (["PORT"], ["site.conf.j2"])
    assert cli_json("scripts", "lint", str(path), "--no-shellcheck")["data"]["findings"] == []


def test_lint_reads_j2_attachments_and_leaves_login_variables(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "lib" / "motd.sh").write_text(SCRIPT.replace('"$OUT"', '"$HOME/motd-$USER-${SSH_CONNECTION%% *}"'))
    done = ok("scripts", "lint", str(tmp_path / "lib"), "--no-shellcheck", code=2)
    assert done.stdout == (f"{tmp_path}/lib/attachments/bad.j2:1: error: NOT_DECLARED is used in bad.j2 but not "
                           f"declared in the Inputs of {tmp_path}/lib/broken.sh (run 'stackscripts scripts scaffold "
                           f"{tmp_path}/lib/broken.sh') [undeclared-input]\n1 error(s), 0 warning(s)\n")


def test_template_given_to_lint_or_scaffold(tmp_path: Path) -> None:
    template = project(tmp_path)
    before = template.read_text()
    lint = ok("scripts", "lint", str(template), "--no-shellcheck", code=2)
    assert lint.stdout.startswith(f"{template}:2: error: this is a ServerTemplate, not a script, and 'scripts lint' "
                                  "checks scripts.")
    assert "scaffold" not in lint.stdout
    scaffold = ok("scripts", "scaffold", str(template), code=2)
    assert scaffold.stderr.startswith(f"stackscripts: error: {template}:2: this is a ServerTemplate, not a script")
    assert f"'stackscripts templates validate {template}'" in scaffold.stderr
    assert template.read_text() == before


def test_lint_without_argument_lints_the_libraries(tmp_path: Path) -> None:
    project(tmp_path)
    lib = str(tmp_path / "lib")
    for env, args in (({"STACKSCRIPTS_LIBRARY": lib}, ()), ({}, ("--library", f"mine={lib}"))):
        doc = cli_json("scripts", "lint", "--no-shellcheck", *args, env=env, code=2)
        assert [(f["file"], f["code"]) for f in doc["data"]["findings"]] == [
            (f"{lib}/attachments/bad.j2", "undeclared-input")]
    nothing = run_cli("scripts", "lint", cwd=tmp_path)  # no ./scripts here
    assert (nothing.returncode, nothing.stdout) == (2, "")
    assert nothing.stderr.startswith("stackscripts: error: nothing to lint: no paths given and no script library.")
    (tmp_path / "lib").rename(tmp_path / "scripts")
    doc = cli_json("scripts", "lint", "--no-shellcheck", cwd=tmp_path, code=2)
    assert [(f["file"], f["code"]) for f in doc["data"]["findings"]] == [("scripts/attachments/bad.j2", "undeclared-input")]
