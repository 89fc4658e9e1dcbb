"""A five-step boot on one server and on ten at once, everything recorded in the audit store."""

from __future__ import annotations

import pytest

from stackscripts.api.fleet import fleet_boot
from tests.runner.fixtures import Bench

pytestmark = pytest.mark.timeout(120)


def test_five_step_boot_is_recorded_step_by_step(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template()
    result = bench.controller.boot(web, template, ["MSG_2=text:from the command line"])

    assert result.ok and [s.exit_code for s in result.steps] == [0] * 5
    server = bench.controller.store.get_server(web)
    assert server.state == "operational"
    assert server.host_key == bench.sshd[web].host_key_line  # trusted on first use, recorded
    assert server.template == str(template.resolve())
    assert bench.ran(web) == [1, 2, 3, 4, 5]
    assert (bench.out / web / "step2.txt").read_text() == "from the command line\n"
    assert (bench.out / web / "step4.txt").read_text() == "message-4\n"

    run = bench.reopen().get_run(result.run_id)  # from the file, not from this process's memory
    assert run.state == "succeeded" and run.phase == "Boot" and run.server == web
    assert run.ended is not None and run.started <= run.ended
    assert [(s.index, s.name, s.exit_code, s.error) for s in run.steps] == [
        (i, f"Step {i + 1}", 0, None) for i in range(5)]
    for s in run.steps:
        n = s.index + 1
        msg = "from the command line" if n == 2 else f"message-{n}"
        assert s.stdout == f"step {n} stdout: {msg}\nstep {n} done\n"
        assert s.stderr == f"step {n} stderr: {msg}\n"
        assert sorted(s.output.splitlines()) == sorted([*s.stdout.splitlines(), *s.stderr.splitlines()])
        assert s.started is not None and s.ended is not None and s.started <= s.ended
        assert len(s.sha256) == 64
        assert s.inputs == {"OUT_DIR": f"text:{bench.out}", f"MSG_{n}": f"text:{msg}"}
    assert run.inputs["MSG_2"] == "text:from the command line"
    assert run.inputs["MSG_5"] == "text:message-5"
    assert bench.controller.store.get_server(web).inputs == run.inputs


def test_fleet_boot_of_ten_servers_records_each_run(bench: Bench) -> None:
    names = bench.add(10)
    template = bench.template()
    fleet = fleet_boot(bench.controller, names, template, parallel=10)

    assert fleet.ok, [(o.server, o.status, o.message) for o in fleet.outcomes]
    assert [o.server for o in fleet.outcomes] == names
    run_ids = {o.server: o.result.run_id for o in fleet.outcomes if o.result}
    assert len(set(run_ids.values())) == 10
    controller = bench.reopen()
    for name in names:
        assert controller.store.get_server(name).state == "operational"
        assert bench.ran(name) == [1, 2, 3, 4, 5]
        (listed,) = controller.runs(name)
        assert listed.id == run_ids[name]
        run = controller.get_run(run_ids[name])
        assert run.server == name and run.state == "succeeded"
        assert [s.exit_code for s in run.steps] == [0] * 5
        assert run.steps[0].stdout == "step 1 stdout: message-1\nstep 1 done\n"
    assert len(controller.runs()) == 10
