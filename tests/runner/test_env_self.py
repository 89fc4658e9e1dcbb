"""env:NAME without a server: a value of the server itself, as RightScale allowed (right_st's env:RS_UUID)."""

from __future__ import annotations

import pytest

from stackscripts.errors import BadInput
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step

pytestmark = pytest.mark.timeout(120)

SHOW = """\
echo "ip=$MY_IP name=$MY_NAME uuid=$MY_UUID"
"""


def test_a_server_reads_its_own_values(bench: Bench) -> None:
    (web,) = bench.add(1, host="127.0.0.1")
    template = bench.template([Step("Show", SHOW, {"MY_IP": None, "MY_NAME": None, "MY_UUID": None})],
                              inputs={"MY_IP": "env:PRIVATE_IP", "MY_NAME": "env:RS_SERVER_NAME",
                                      "MY_UUID": "env:RS_UUID"})
    result = bench.controller.boot(web, template)
    assert result.steps[0].stdout == f"ip=127.0.0.1 name={web} uuid={web}\n"  # no cloud: the uuid is its name
    run = bench.controller.get_run(result.run_id)
    assert run.steps[0].inputs["MY_IP"] == "env:PRIVATE_IP -> 127.0.0.1"  # the reference, and what it gave
    assert run.inputs["MY_IP"] == "env:PRIVATE_IP"  # the run keeps the reference (a resume follows it again)


def test_an_unknown_own_value_is_bad_input(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([Step("Show", SHOW, {"MY_IP": None, "MY_NAME": None, "MY_UUID": None})],
                              inputs={"MY_IP": "env:NO_SUCH_VALUE", "MY_NAME": "text:x", "MY_UUID": "text:y"})
    with pytest.raises(BadInput, match="env:NO_SUCH_VALUE has no value on this server"):
        bench.controller.boot(web, template)
