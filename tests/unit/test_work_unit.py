"""The unit of work as it travels through the queue: versioned JSON, round-tripped exactly, refused when foreign."""

from __future__ import annotations

import json

import pytest

from stackscripts.errors import BadInput
from stackscripts.queue.unit import VERSION, WorkUnit

UNIT = WorkUnit(fleet="f1", server="web1", kind="boot", revision="sha256:" + "a" * 64, template="/t/app.yml",
                layers=(("command line", {"API_TOKEN": "cred:api-token", "GREETING": "text:hi"}),))


def test_a_unit_round_trips_through_json_with_its_version() -> None:
    text = UNIT.to_json()
    assert json.loads(text)["version"] == VERSION
    assert WorkUnit.from_json(text) == UNIT
    assert WorkUnit.from_dict(json.loads(text)).layers == UNIT.layers


def test_a_credential_travels_as_its_reference() -> None:
    assert "cred:api-token" in UNIT.to_json()


@pytest.mark.parametrize(("text", "why"), [
    ('{"version": 99, "fleet": "f", "server": "s", "kind": "boot", "revision": "sha256:x"}', "version 99"),
    ('{"version": 1, "fleet": "f", "server": "s", "kind": "reboot", "revision": "sha256:x"}', "malformed"),
    ('{"version": 1, "fleet": "f", "server": "s", "kind": "boot", "revision": "abc"}', "malformed"),
    ('{"version": 1, "server": "s", "kind": "boot", "revision": "sha256:x"}', "malformed"),
    ("[1, 2]", "not a JSON object"),
    ("{nope", "not JSON"),
])
def test_a_foreign_or_malformed_unit_is_bad_input(text: str, why: str) -> None:
    with pytest.raises(BadInput, match=why):
        WorkUnit.from_json(text)
