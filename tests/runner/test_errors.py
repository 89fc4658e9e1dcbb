"""Errors that are not a failing step: they end the run cleanly and leave the server usable."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.errors import BadInput, ConnectionFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, numbered_step

pytestmark = pytest.mark.timeout(120)


def test_an_attachment_that_does_not_render_ends_the_run_and_frees_the_server(bench: Bench) -> None:
    (web,) = bench.add(1)
    config = Step("Configure", 'cat "$RS_ATTACH_DIR/app.conf"\n', {"OUT_DIR": None},
                  attachments={"app.conf.j2": "dir={{ OUT_DIR }} name={{ NO_SUCH_INPUT }}\n"})
    template = bench.template([numbered_step(1), config])
    attachment = template.parent / "scripts" / "attachments" / "app.conf.j2"

    with pytest.raises(BadInput, match="NO_SUCH_INPUT"):
        bench.controller.boot(web, template)
    (run,) = bench.controller.runs(web)
    assert run.state == "failed"  # not left running (holding the server) while this process lives
    assert bench.controller.store.get_server(web).state == "stranded"

    attachment.write_text("dir={{ OUT_DIR }}\n")  # fixed on disk: the run's own revision keeps the broken one
    with pytest.raises(BadInput, match="NO_SUCH_INPUT"):
        bench.controller.resume(run.id)
    assert bench.ran(web) == [1]  # step 1 ran once: the resume started at the step that broke
    assert bench.controller.store.get_server(web).state == "stranded"
    booted = bench.controller.boot(web, template)  # a new boot is a new revision, with the fix
    assert booted.ok and booted.steps[-1].stdout == f"dir={bench.out}\n"


def test_an_unreachable_server_records_a_failed_attempt_only(bench: Bench, tmp_path: Path) -> None:
    (web,) = bench.add(1)
    first = bench.template([numbered_step(1)])
    bench.controller.boot(web, first)
    before = bench.controller.store.get_server(web)
    bench.controller.store.update_server(web, port=1)  # nothing listens there
    with pytest.raises(ConnectionFailed, match="connection refused"):
        bench.controller.boot(web, bench.template([numbered_step(1), numbered_step(2)]), force=True)
    after = bench.controller.store.get_server(web)
    attempt, _first = bench.controller.runs(web)  # the attempt: failed, no steps, the reason (test_attempts.py)
    assert attempt.state == "failed" and attempt.steps == () and "connection refused" in (attempt.error or "")
    assert (after.state, after.template, after.inputs) == (before.state, before.template, before.inputs)
