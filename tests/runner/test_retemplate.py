"""A boot on a server booted from another template or revision is refused unless forced; forced, the server's
history keeps what it was (template, revision, inputs) before its record is replaced (real sshd, real store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.errors import Conflict
from tests.runner.fixtures import Bench
from tests.runner.helpers import numbered_step
from tests.support.cli import run_cli

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSCRIPTS_CACHE", str(tmp_path / "cache"))


def test_booting_from_another_template_needs_force_and_is_kept_in_history(bench: Bench, tmp_path: Path) -> None:
    (web,) = bench.add(1)
    first = bench.template([numbered_step(1)])
    bench.controller.boot(web, first)
    before = bench.controller.store.get_server(web)
    other = bench.template([numbered_step(1), numbered_step(2)])

    with pytest.raises(Conflict) as refused:
        bench.controller.boot(web, other)
    assert f"server {web} is operational, booted from {first.resolve()}" in refused.value.message
    assert "--force" in (refused.value.hint or "")
    assert bench.controller.store.get_server(web) == before  # template, revision, inputs untouched
    assert len(bench.controller.runs(web)) == 1  # nothing ran

    # the same template again (same revision) needs no --force
    bench.controller.boot(web, first)

    bench.controller.boot(web, other, force=True)
    after = bench.controller.store.get_server(web)
    assert after.template == str(other.resolve()) and after.revision != before.revision
    (event,) = bench.controller.store.server_events(web)
    assert (event.kind, event.previous, event.revision) == ("retemplate", before.revision, after.revision)
    assert str(first.resolve()) in event.message

    # the CLI: exit 2 with one paragraph, and the history shows the forced boot
    result = run_cli("boot", web, "--template", str(first), "--db", str(bench.db))
    assert result.returncode == 2 and "--force" in result.stderr and "Traceback" not in result.stderr
    shown = run_cli("servers", "show", web, "--db", str(bench.db))
    assert "retemplate" in shown.stdout, shown.stdout
