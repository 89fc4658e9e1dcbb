"""/api/v1 answers with the CLI's envelopes: the same `command` and the same `data` as the matching command's
--json, over the same real store; every route is in the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stackscripts.api.controller import Controller
from stackscripts.web.app import create_app
from tests.support.cli import ENVELOPE_KEYS, cli_json
from tests.web.conftest import Teams
from tests.web.support import Served, envelope

pytestmark = pytest.mark.timeout(300)


def api(site: Served, path: str, token: str, code: int = 200) -> dict[str, Any]:
    status, doc = envelope(site.url + path, headers={"Authorization": f"Bearer {token}"})
    assert status == code, doc
    assert set(doc) == ENVELOPE_KEYS and doc["api_version"] == "stackscripts/v1"
    assert doc["ok"] is (code == 200)
    return doc


def test_the_data_is_the_clis(teams: Teams, site: Served) -> None:
    db = str(teams.world.db)
    token = teams.operator  # team web: its records are all the CLI shows of web1
    pairs = [
        (f"/api/v1/runs/{teams.web_ok}", ("runs", "show", teams.web_ok)),
        ("/api/v1/runs?server=web1", ("runs", "list", "--server", "web1")),
        (f"/api/v1/report?run={teams.web_ok}&run={teams.web_failed}", ("report", teams.web_ok, teams.web_failed)),
        ("/api/v1/servers/web1", ("servers", "show", "web1")),
    ]
    for path, command in pairs:
        doc = api(site, path, token)
        cli = cli_json(*command, "--db", db)
        assert doc["command"] == cli["command"], path
        assert doc["data"] == cli["data"], path
    listed = api(site, "/api/v1/servers", token)
    assert listed["command"] == "servers list"
    assert listed["data"] == [s for s in cli_json("servers", "list", "--db", db)["data"] if s["team"] == "web"]


def test_revisions_as_the_cli_shows_them(teams: Teams, site: Served) -> None:
    db = str(teams.world.db)
    mine = api(site, "/api/v1/revisions", teams.operator)["data"]
    everything = cli_json("revisions", "list", "--db", db)["data"]
    assert mine and all(r in everything for r in mine) and len(mine) < len(everything)  # the ops team's is not here
    old, new = mine[-1]["revision"], mine[0]["revision"]
    shown = api(site, f"/api/v1/revisions/{new}", teams.operator)
    assert shown["data"] == cli_json("revisions", "show", new, "--db", db)["data"]
    diff = api(site, f"/api/v1/revisions/diff?old={old}&new={new}", teams.operator)
    assert diff["command"] == "revisions diff"
    assert diff["data"] == cli_json("revisions", "diff", old, new, "--db", db)["data"]
    assert not diff["data"]["empty"]


def test_a_steps_log_page_by_page(teams: Teams, site: Served) -> None:
    whole = cli_json("runs", "log", teams.web_ok, "1", "--db", str(teams.world.db))["data"]["text"]
    pieces, after, more = [], 0, True
    while more:
        page = api(site, f"/api/v1/runs/{teams.web_ok}/steps/1/log?after={after}&limit=1024", teams.operator)["data"]
        assert page["run_id"] == teams.web_ok and page["step"] == 1
        pieces.append(page["text"])
        after, more = page["next"], page["more"]
    assert "".join(pieces) == whole


def test_errors_are_the_clis_too(teams: Teams, site: Served) -> None:
    db = str(teams.world.db)
    doc = api(site, "/api/v1/fleets", teams.operator, code=400)  # a SQLite store has no queue
    cli = cli_json("fleets", "list", "--db", db, code=2)
    assert doc["command"] == cli["command"] == "fleets list"
    assert doc["error"]["type"] == cli["error"]["type"] == "BadInput"
    assert doc["error"]["exit_code"] == 2
    missing = api(site, "/api/v1/runs/r-20000101-000000-0000", teams.operator, code=404)
    assert missing["command"] == "runs show" and missing["error"]["type"] == "NotFound"


def test_openapi_lists_every_route(teams: Teams, site: Served) -> None:
    api_doc = envelope(site.url + "/api/v1/openapi.json", headers={"Authorization": f"Bearer {teams.viewer}"})[1]
    assert api_doc["openapi"].startswith("3.") and api_doc["paths"]
    with Controller(teams.world.db) as c:
        app = create_app(c)
        served = [(route.path, method) for route in app.app.routes for method in route.methods if method != "HEAD"]
    for path, method in served:
        plain = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        assert method.lower() in api_doc["paths"].get(plain, {}), f"{method} {path} is not in the OpenAPI document"
    for path, methods in api_doc["paths"].items():
        for method, operation in methods.items():
            assert operation["summary"], (method, path)
