"""The cloud-init runner, run with real bash on this machine from the user-data's own files.

Order, byte-exact inputs, .j2 rendering, files shipped once, umask 022, Timeout (the step's process group
killed), Retries, stopping at a failed step with every env file removed, and the console lines
(cloud-init-output.log): a line per step start and end with its exit code, the failing step's output tail
with its secrets masked. tests/e2e/test_cloudinit_real.py runs the same runner under the real cloud-init.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stackscripts import api
from tests.render.cloudinit_helpers import CiStep, boot, write_template, written_files
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

NASTY = "it's \"quoted\" $(touch PWNED) `touch PWNED2` ${HOME} ; rm -rf x\n\ttab\n\nunicode ☃ 日本 \\ end\n"
LIB = b"# a shared library\nsay() { echo \"lib: $*\"; }\n" * 40
SECRET = "Sup3r-s3cret-Value"


def out_input(out: Path) -> str:
    return f"OUT=text:{out}"


def three_steps() -> list[CiStep]:
    first = """\
        printf '%s' "$VALUE" > "$OUT/value"
        echo 1 >> "$OUT/order"
        cp "$RS_ATTACH_DIR/app.conf" "$OUT/app.conf"
        cmp -s "$RS_ATTACH_DIR/lib.sh" "$OUT/lib.expected" && echo same > "$OUT/lib.first"
        umask > "$OUT/umask"
        stat -c %a "${RS_ATTACH_DIR%/attachments}" "$RS_ATTACH_DIR" "$PWD" > "$OUT/private"
        echo made > "$OUT/made-by-step" && mkdir "$OUT/dir-by-step"
        echo "first says hi"
        """
    second = """\
        echo 2 >> "$OUT/order"
        cmp -s "$RS_ATTACH_DIR/lib.sh" "$OUT/lib.expected" && echo same > "$OUT/lib.second"
        """
    return [
        CiStep("First", first, {"VALUE": "text:x", "OUT": "text:/nonexistent"},
               {"app.conf.j2": "value={{ VALUE }}\n", "lib.sh": LIB}),
        CiStep("Second", second, {"OUT": "text:/nonexistent"}, {"lib.sh": LIB}),
        CiStep("Third", 'echo 3 >> "$OUT/order"\n', {"OUT": "text:/nonexistent"}),
    ]


def test_steps_run_in_order_byte_exact_with_umask_022(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "lib.expected").write_bytes(LIB)
    template = write_template(tmp_path / "t", three_steps())
    user_data = api.user_data(template, [out_input(out), f"VALUE=text:{NASTY}"], max_size=None)

    done = boot(user_data.text, tmp_path)

    assert done.code == 0, done.console
    assert (out / "order").read_text() == "1\n2\n3\n"
    assert (out / "value").read_bytes() == NASTY.encode()
    assert (out / "app.conf").read_bytes() == f"value={NASTY}\n".encode()  # .j2 rendered with the inputs
    assert (out / "lib.first").exists() and (out / "lib.second").exists()
    assert not list(tmp_path.rglob("PWNED*"))
    assert (out / "umask").read_text() == "0022\n"
    assert (out / "private").read_text().split() == ["700", "700", "700"]  # bundle, attachments, work
    assert stat.S_IMODE((out / "made-by-step").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "dir-by-step").stat().st_mode) == 0o755
    assert done.state() == "operational"
    assert [(row[0], row[1], row[4]) for row in done.rows()] == [
        ("01-first", "First", "0"), ("02-second", "Second", "0"), ("03-third", "Third", "0")]
    assert (done.log / "01-first.stdout").read_text() == "first says hi\n"
    assert stat.S_IMODE(done.log.stat().st_mode) == 0o700
    lines = done.console.splitlines()
    for n, name in enumerate(["First", "Second", "Third"], 1):
        started = lines.index(f"stackscripts: step {n}/3 {name}: started")
        assert lines[started + 1].startswith(f"stackscripts: step {n}/3 {name}: done, exit code 0 (")
    assert lines[-1] == "stackscripts: operational: all 3 steps done"
    assert "first says hi" not in done.console  # step output goes to the log files, not the console
    assert done.leftovers() == []  # no bundle, no env file, no shared file once the boot is done


def test_a_file_several_steps_hold_is_shipped_once(tmp_path: Path) -> None:
    template = write_template(tmp_path / "t", three_steps())
    files = written_files(api.user_data(template, [out_input(tmp_path)], max_size=None).text)
    holding = [path for path, (_, data) in files.items() if data == LIB]
    assert len(holding) == 1 and "/blobs/" in holding[0]
    wrappers = [path for path, (_, data) in files.items() if data.startswith(b"#!/bin/bash\n# stackscripts step wrapper")]
    assert len(wrappers) == 1, "the identical run.sh of the three steps is written once"
    assert not [path for path in files if path.endswith("manifest.json")]


def failing_steps(out: Path) -> list[CiStep]:
    fail = """\
        echo 2 >> "$OUT/order"
        for i in $(seq 1 30); do echo "line $i"; done
        echo "the password is $PASSWORD"
        echo "oops: $PASSWORD" >&2
        exit 7
        """
    inputs = {"OUT": "text:/nonexistent", "PASSWORD": "cred:CI_TEST_PASSWORD"}
    return [CiStep("Fine", 'echo 1 >> "$OUT/order"\n', {"OUT": "text:/nonexistent"}),
            CiStep("Breaks", fail, inputs),
            CiStep("Never", 'echo 3 >> "$OUT/order"\necho "$PASSWORD"\n', inputs)]


def test_a_failed_step_stops_the_sequence_and_removes_every_env_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_CRED_CI_TEST_PASSWORD", SECRET)
    out = tmp_path / "out"
    out.mkdir()
    template = write_template(tmp_path / "t", failing_steps(out))
    user_data = api.user_data(template, [out_input(out)], include_secrets=True, max_size=None)

    done = boot(user_data.text, tmp_path)

    assert done.code == 7
    assert (out / "order").read_text() == "1\n2\n"
    assert done.state() == "stranded"
    assert [(row[0], row[4]) for row in done.rows()] == [("01-fine", "0"), ("02-breaks", "7")]
    assert done.leftovers() == [], "the later step's env file (with the secret) must not stay on disk"
    assert not [p for p in done.disk.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    lines = done.console.splitlines()
    failed = lines.index("stackscripts: step 2/3 Breaks: FAILED, exit code 7 (" + lines[lines.index(
        "stackscripts: step 2/3 Breaks: started") + 1].split(" (", 1)[1])
    tail = lines[failed + 1:]
    assert tail[0] == "stackscripts: step 2/3 Breaks: last 20 lines of stdout:"
    assert tail[1:21] == [f"  | line {i}" for i in range(12, 31)] + ["  | the password is ********"]
    assert tail[21:23] == ["stackscripts: step 2/3 Breaks: last 20 lines of stderr:", "  | oops: ********"]
    assert tail[23] == "stackscripts: stranded at step 2/3 (Breaks): the later steps did not run; output in " \
                       f"{done.log}"
    assert SECRET not in done.console
    assert "Never" not in done.console


def test_a_multiline_secret_is_masked_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_CRED_CI_TEST_PASSWORD", "first-line\nsecond-line\nab")
    step = CiStep("Leaks", 'printf "%s\\n" "$PASSWORD"; echo "x=$PASSWORD" | head -1; exit 3\n',
                  {"PASSWORD": "cred:CI_TEST_PASSWORD"})
    done = boot(api.user_data(write_template(tmp_path / "t", [step]), include_secrets=True, max_size=None).text,
                tmp_path)
    assert done.code == 3
    assert "first-line" not in done.console and "second-line" not in done.console
    assert "  | ********\n  | ********\n  | ab\n  | x=********\n" in done.console


HANGS = """\
    sleep 300 &
    echo $! > "$OUT/child"
    echo "hanging"
    wait
    """


def test_timeout_kills_a_hung_step_and_its_children(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    steps = [CiStep("Hangs", HANGS, {"OUT": "text:/nonexistent"}, timeout=1),
             CiStep("After", 'echo after > "$OUT/after"\n', {"OUT": "text:/nonexistent"})]
    done = boot(api.user_data(write_template(tmp_path / "t", steps), [out_input(out)], max_size=None).text, tmp_path,
                timeout=60)
    assert done.code == 124
    assert "stackscripts: step 1/2 Hangs: FAILED, timed out after 1s, exit code 124 (" in done.console
    assert done.state() == "stranded" and not (out / "after").exists()
    child = int((out / "child").read_text())
    wait_until(lambda: not os.path.exists(f"/proc/{child}"), 10, "the step's child to be killed")
    assert done.leftovers() == []


def test_timeout_kills_a_step_that_ignores_sigterm(tmp_path: Path) -> None:
    step = CiStep("Stubborn", "trap '' TERM\nwhile :; do sleep 0.2; done\n", timeout=0.5)
    done = boot(api.user_data(write_template(tmp_path / "t", [step]), max_size=None).text, tmp_path, timeout=60)
    assert done.code == 137
    assert "stackscripts: step 1/1 Stubborn: FAILED, timed out after 0.5s, exit code 137 (" in done.console


FLAKY = """\
    echo "attempt with VALUE=$VALUE" >> "$OUT/attempts"
    if [ ! -e "$OUT/failed-once" ]; then touch "$OUT/failed-once"; echo "first attempt fails" >&2; exit 3; fi
    echo "second attempt works"
    """


def test_retries_run_the_step_again_with_its_inputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    steps = [CiStep("Flaky", FLAKY, {"OUT": "text:/nonexistent", "VALUE": "text:v1"}, retries=2),
             CiStep("Next", 'echo next > "$OUT/next"\n', {"OUT": "text:/nonexistent"})]
    done = boot(api.user_data(write_template(tmp_path / "t", steps), [out_input(out)], max_size=None).text, tmp_path)
    assert done.code == 0, done.console
    assert (out / "attempts").read_text() == "attempt with VALUE=v1\n" * 2  # a fresh env file per attempt
    assert (out / "next").exists() and done.state() == "operational"
    assert "stackscripts: step 1/2 Flaky: attempt 1 failed (exit code 3); retrying in 1s (attempt 2 of 3)" in done.console
    assert [(row[0], row[4]) for row in done.rows()] == [("01-flaky", "0"), ("02-next", "0")]
    stderr = (done.log / "01-flaky.stderr").read_text()
    assert stderr.startswith("first attempt fails\nstackscripts: step 1/2 Flaky: attempt 1 failed")


def test_retries_exhausted_strand_the_boot(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    step = CiStep("Always", 'echo run >> "$OUT/runs"; exit 5\n', {"OUT": "text:/nonexistent"}, retries=2)
    done = boot(api.user_data(write_template(tmp_path / "t", [step]), [out_input(out)], max_size=None).text, tmp_path)
    assert done.code == 5
    assert (out / "runs").read_text() == "run\nrun\nrun\n"
    assert "attempt 1 failed (exit code 5); retrying in 1s (attempt 2 of 3)" in done.console
    assert "attempt 2 failed (exit code 5); retrying in 2s (attempt 3 of 3)" in done.console  # as over SSH
    assert "stackscripts: step 1/1 Always: FAILED, exit code 5 (" in done.console
    assert done.state() == "stranded"
