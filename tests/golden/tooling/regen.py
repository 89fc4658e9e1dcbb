"""Re-derive the right_st golden files with go-yaml v2 (test tooling; the test suite never runs it).

    apt-get install golang-go golang-gopkg-yaml.v2-dev    # Debian 12: Go 1.19, gopkg.in/yaml.v2 2.4.0
    python3 tests/golden/tooling/regen.py                 # check: exit 1 when a golden differs
    python3 tests/golden/tooling/regen.py --write         # write them

It builds right_st_writer.go (right_st's metadata writer, reconstructed, on Debian's go-yaml v2), feeds it
goldens.json (each golden's metadata as plain data, with the lines before and after its block) and writes
tests/golden/rightscripts/FILE = head + the block go-yaml wrote + body. It also asks go-yaml how it writes
each string of go_yaml_scalars.json (the quoting table the unit tests check the writer against).
See tests/golden/rightscripts/SOURCES.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "rightscripts"
GOPATH = "/usr/share/gocode"  # where Debian's golang-gopkg-yaml.v2-dev puts gopkg.in/yaml.v2


def build(scratch: Path) -> Path:
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOCACHE=str(scratch / "cache"), GOFLAGS="")
    binary = scratch / "right_st_writer"
    subprocess.run(["go", "build", "-o", str(binary), str(HERE / "right_st_writer.go")], env=env, check=True)
    return binary


def run(binary: Path, payload: object, *args: str) -> object:
    done = subprocess.run([str(binary), *args], input=json.dumps(payload), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main(argv: list[str]) -> int:
    write = "--write" in argv
    specs = json.loads((HERE / "goldens.json").read_text("utf-8"))
    table_path = HERE / "go_yaml_scalars.json"
    table = json.loads(table_path.read_text("utf-8"))
    with tempfile.TemporaryDirectory(prefix="right_st_writer-") as scratch:
        binary = build(Path(scratch))
        blocks = run(binary, specs)
        written = run(binary, [value for value, _ in table], "-scalars")
    assert isinstance(blocks, dict) and isinstance(written, list)
    outputs = {GOLDEN / s["file"]: s["head"] + blocks[s["file"]] + s["body"] for s in specs}
    outputs[table_path] = json.dumps(written, indent=1, ensure_ascii=False) + "\n"
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text("utf-8") != text]
    for path in stale:
        print(f"{'writing' if write else 'differs'}: {path.relative_to(HERE.parents[2])}")
        if write:
            path.write_text(outputs[path], "utf-8")
    if not stale:
        print(f"all {len(outputs)} files are what go-yaml writes")
    return 0 if write or not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
