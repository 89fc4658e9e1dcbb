"""Tiny hostile inputs cost no more than small ones: alias bombs, deep nesting, FIFOs, symlink loops, huge files."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from stackscripts import files, yamlsrc
from stackscripts.errors import BadInput
from tests.runner.helpers import cli, no_traceback

pytestmark = pytest.mark.timeout(60)

# 504 bytes that expand to 10^9 strings when every alias is followed
BOMB = """Name: bomb
Description: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
Inputs:
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
RightScripts: {}
"""


def bad(result_args: list[str], *, expect: str, file: str) -> None:
    result = cli(*result_args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expect in result.stderr, result.stderr
    assert file in result.stderr, result.stderr
    no_traceback(result.stderr)


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    template = tmp_path / "bomb.yaml"
    template.write_text(BOMB)
    with pytest.raises(BadInput, match="expands to more than 100,000 values") as caught:
        yamlsrc.load(BOMB, str(template))
    assert caught.value.line is not None
    bad(["templates", "validate", str(template)], expect="expands to more than", file=f"{template}:")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    text = "Name: deep\nDescription: " + "[" * 200 + "]" * 200 + "\n"
    with pytest.raises(BadInput, match="nests deeper than 64 levels"):
        yamlsrc.load(text, "deep.yaml")
    block = "Name: deep\nInputs:\n" + "".join("  " * (n + 1) + f"k{n}:\n" for n in range(100))
    with pytest.raises(BadInput, match="nests deeper"):
        yamlsrc.load(block, "deep.yaml")


def test_huge_yaml_is_refused_before_parsing() -> None:
    with pytest.raises(BadInput, match="more than the 1,048,576 allowed"):
        yamlsrc.load("# " + "x" * (2 * 1024 * 1024) + "\n", "huge.yaml")


def test_fifo_as_template_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "t.yaml"
    os.mkfifo(fifo)
    bad(["templates", "validate", str(fifo)], expect="is a FIFO (named pipe), not a template", file=str(fifo))


def test_symlink_loop_as_template_is_bad_input(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(loop)
    bad(["templates", "validate", str(loop)], expect="symbolic link loop", file=str(loop))


def test_read_bytes_refuses_devices_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="is a character device, not a template"):
        files.read_bytes("/dev/zero", "template")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(BadInput, match="2,048 bytes, more than the 1,024"):
        files.read_bytes(big, "template", max_bytes=1024)
    with pytest.raises(BadInput, match="no such template"):
        files.read_bytes(tmp_path / "missing", "template")


def test_fifo_read_returns_at_once_even_with_a_writer(tmp_path: Path) -> None:
    """A FIFO is refused from its fstat, before any read could wait for the writer."""
    fifo = tmp_path / "deployment.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            files.read_text(fifo, "deployment")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive() and isinstance(outcome[0], BadInput)


def library_with(tmp_path: Path) -> Path:
    from tests.support.rightscripts import write_rightscript

    lib = tmp_path / "lib"
    lib.mkdir()
    write_rightscript(lib, "Hello", "echo hi\n")
    return lib


def test_fifo_in_a_library_is_named_not_waited_on(tmp_path: Path) -> None:
    lib = library_with(tmp_path)
    os.mkfifo(lib / "stray.sh")
    result = run_cli_in(tmp_path, "scripts", "list", "--library", str(lib))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{lib / 'stray.sh'}: is a FIFO (named pipe), not a script" in result.stderr


def test_symlink_loop_in_a_library_is_bad_input(tmp_path: Path) -> None:
    lib = library_with(tmp_path)
    (lib / "a.sh").symlink_to(lib / "b.sh")
    (lib / "b.sh").symlink_to(lib / "a.sh")
    for command in (["scripts", "list", "--library", str(lib)], ["scripts", "lint", str(lib / "a.sh")],
                    ["scripts", "show", str(lib / "a.sh")]):
        result = run_cli_in(tmp_path, *command)
        assert result.returncode == 2, (command, result.stdout + result.stderr)
        assert "is a symbolic link loop" in result.stdout + result.stderr, (command, result.stderr)  # lint: a finding
        no_traceback(result.stderr)


def test_fifo_attachment_is_bad_input(tmp_path: Path) -> None:
    from tests.support.rightscripts import write_rightscript

    script = write_rightscript(tmp_path, "Hello", "echo hi\n", attachments={"app.conf": "x=1\n"})
    attachment = script.parent / "attachments" / "app.conf"
    attachment.unlink()
    os.mkfifo(attachment)
    result = run_cli_in(tmp_path, "scripts", "show", str(script))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{attachment}: is a FIFO (named pipe), not an attachment" in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["", ":", "scripts::more", "=scripts", "name="])
def test_malformed_library_variable_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "scripts").mkdir()
    result = run_cli_in(tmp_path, "scripts", "list", env={"STACKSCRIPTS_LIBRARY": value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "STACKSCRIPTS_LIBRARY" in result.stderr and "empty or has no folder" in result.stderr
    no_traceback(result.stderr)


def run_cli_in(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    from tests.support.cli import run_cli

    return run_cli(*args, cwd=cwd, env=env)
