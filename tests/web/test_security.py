"""The dashboard's access on real parts (a real `stackscripts serve`, real runs on sshd, real tokens): no token is
401 on a non-loopback bind; another team's records are 404 exactly as unknown ones; a step's HTML renders inert;
tokens never reach the log; a viewer cannot act; a POST without its CSRF token is refused."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from tests.support.parts import require
from tests.web.conftest import HOSTILE, Teams
from tests.web.support import PYTHON, ROOT, Served, envelope, fetch, free_port, non_loopback_address

pytestmark = pytest.mark.timeout(300)

UNKNOWN_RUN = "r-20000101-000000-0000"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"stackscripts_session={token}"}


def csrf_of(url: str, headers: dict[str, str]) -> str:
    status, _, body = fetch(url, headers=headers)
    assert status == 200, body
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', body)
    assert found, "no CSRF field in the page"
    return found.group(1)


def address() -> str:
    found = non_loopback_address()
    require(found is not None, "a non-loopback IPv4 address on this machine (eth0, docker0)")
    assert found is not None
    return found


def test_without_tokens_only_loopback_may_be_bound(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    Controller(db).close()
    done = subprocess.run([PYTHON, "-m", "stackscripts", "serve", "--bind", f"{address()}:{free_port()}", "--db",
                           str(db)], capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "no API token" in done.stderr and "stackscripts tokens create" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    bad = subprocess.run([PYTHON, "-m", "stackscripts", "serve", "--bind", "nonsense", "--db", str(db)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
    assert bad.returncode == 2 and "is not HOST:PORT" in bad.stderr and "Traceback" not in bad.stderr


def test_no_token_is_401_on_a_non_loopback_bind(teams: Teams) -> None:
    with Served(teams.world.db, host=address()) as site:
        status, headers, _ = fetch(f"{site.url}/api/v1/runs")
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        code, doc = envelope(f"{site.url}/api/v1/runs")
        assert code == 401 and doc["ok"] is False and doc["error"]["type"] == "Unauthorized"
        status, _, page = fetch(f"{site.url}/servers")
        assert status == 401 and 'name="token"' in page  # the sign-in form
        assert fetch(f"{site.url}/api/v1/runs", headers=bearer(teams.viewer[:-4] + "AAAA"))[0] == 401
        assert fetch(f"{site.url}/runs/{teams.web_ok}/live")[0] == 401
        code, doc = envelope(f"{site.url}/api/v1/runs", headers=bearer(teams.viewer))
        assert code == 200 and {r["id"] for r in doc["data"]} == {teams.web_ok, teams.web_failed}


def test_another_teams_records_are_404_as_unknown_ones(teams: Teams, site: Served) -> None:
    web = bearer(teams.viewer)
    code, unknown = envelope(f"{site.url}/api/v1/runs/{UNKNOWN_RUN}", headers=web)
    assert code == 404
    code, hidden = envelope(f"{site.url}/api/v1/runs/{teams.ops_run}", headers=web)
    assert code == 404
    assert hidden["error"]["message"] == unknown["error"]["message"].replace(UNKNOWN_RUN, teams.ops_run)
    for path in (f"/runs/{teams.ops_run}", f"/runs/{teams.ops_run}/steps/1", f"/runs/{teams.ops_run}/live",
                 f"/api/v1/runs/{teams.ops_run}/steps/1/log", f"/api/v1/report?run={teams.ops_run}",
                 f"/compare?run={teams.web_ok}&run={teams.ops_run}", "/servers/db1", "/api/v1/servers/db1",
                 f"/api/v1/runs/{teams.ops_run[:-2]}"):  # a part of an id names nothing either
        status, _, body = fetch(site.url + path, headers=web)
        assert status == 404, (path, status, body[:300])
        assert "db1" not in body or path.endswith("db1")  # nothing of the other team's run is told
    for path in ("/servers", "/runs", "/compare", "/api/v1/servers", "/api/v1/runs"):
        body = fetch(site.url + path, headers=web)[2]
        assert teams.ops_run not in body and "db1" not in body, path
    code, seen = envelope(f"{site.url}/api/v1/runs/{teams.ops_run}", headers=bearer(teams.ops_operator))
    assert code == 200 and seen["data"]["server"] == "db1"


def test_a_steps_html_renders_inert(teams: Teams, site: Served) -> None:
    status, headers, body = fetch(f"{site.url}/runs/{teams.web_ok}", headers=bearer(teams.viewer))
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    assert HOSTILE not in body and "<script>window" not in body and "<img src=x" not in body
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in body
    assert "Install &lt;b&gt;pkg&lt;/b&gt;" in body and "<b>pkg</b>" not in body
    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts == ['<script src="/static/app.js" defer>']  # the app's own, and nothing else
    page = fetch(f"{site.url}/runs/{teams.web_ok}/steps/1", headers=bearer(teams.viewer))[2]
    assert HOSTILE not in page and "&lt;img src=x" in page


def test_tokens_never_reach_the_log(teams: Teams) -> None:
    with Served(teams.world.db) as site:
        fetch(f"{site.url}/api/v1/runs", headers=bearer(teams.viewer))
        fetch(f"{site.url}/servers", headers=cookie(teams.operator))
        fetch(f"{site.url}/login", form={"token": teams.viewer})
        fetch(f"{site.url}/login", form={"token": teams.operator + "x"})  # refused: its text is still no log's
        fetch(f"{site.url}/api/v1/runs?token={teams.ops_operator}", headers=bearer(teams.viewer[:-3] + "zzz"))
        fetch(f"{site.url}/runs/{teams.operator}", headers=bearer(teams.operator))  # a token in the path
        fetch(f"{site.url}/api/v1/boot", form={"server": "web1", "revision": teams.viewer},
              headers=bearer(teams.viewer))
    log = site.log.read_text()
    assert "access" in log and "/api/v1/runs" in log  # requests were logged
    for token in (teams.viewer, teams.operator, teams.ops_operator):
        secret = token.split("_", 2)[2]
        assert secret not in log and secret[:12] not in log, "a token reached the dashboard's log"


def test_a_viewer_cannot_act(teams: Teams, site: Served) -> None:
    with Controller(teams.world.db) as c:
        before = len(c.store.list_runs(None, 100))
    code, doc = envelope(f"{site.url}/api/v1/boot", form={"server": "web1"}, headers=bearer(teams.viewer))
    assert code == 403 and doc["error"]["type"] == "Forbidden" and "only an operator may act" in doc["error"]["message"]
    viewer = cookie(teams.viewer)
    token = csrf_of(f"{site.url}/servers/web1", viewer)
    for action, form in (("boot", {"server": "web1"}), ("terminate", {"server": "web1"}),
                         ("resume", {"run": teams.web_failed}), ("run", {"server": "web1", "script": "Restart app"})):
        status, _, body = fetch(f"{site.url}/actions/{action}", form={**form, "csrf_token": token}, headers=viewer)
        assert status == 403 and "only an operator may act" in body, action
    with Controller(teams.world.db) as c:
        assert len(c.store.list_runs(None, 100)) == before  # nothing started
        assert c.store.get_server("web1").state != "terminated"


def test_a_post_without_its_csrf_token_is_refused(teams: Teams, site: Served) -> None:
    operator = cookie(teams.operator)
    token = csrf_of(f"{site.url}/servers/web1", operator)
    other = csrf_of(f"{site.url}/servers/web1", cookie(teams.viewer))  # another session's token
    form = {"run": teams.web_ok}
    for sent in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}, {"csrf_token": other}):
        status, _, body = fetch(f"{site.url}/actions/resume", form={**form, **sent}, headers=operator)
        assert status == 403 and "CSRF" in body, sent
    code, doc = envelope(f"{site.url}/api/v1/resume", form=form, headers=operator)  # the API with a cookie
    assert code == 403 and "CSRF" in doc["error"]["message"]
    status, _, body = fetch(f"{site.url}/actions/resume", form={**form, "csrf_token": token}, headers=operator)
    assert status == 409 and "only failed, interrupted or cancelled runs can be resumed" in body  # past the check


def test_without_tokens_a_foreign_host_name_is_refused(tmp_path: Path) -> None:
    """DNS rebinding: a page of another site whose name points at 127.0.0.1 gets nothing."""
    db = tmp_path / "audit.db"
    Controller(db).close()
    with Served(db) as site:
        status, _, body = fetch(f"{site.url}/servers", headers={"Host": f"evil.example:{site.port}"})
        assert status == 403 and "loopback host name" in body
        status, headers, _ = fetch(f"{site.url}/servers")
        assert status == 200 and "stackscripts_session=" in headers.get("set-cookie", "")
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=strict" in headers["set-cookie"]
        assert fetch(f"{site.url}/actions/boot", form={"server": "x"})[0] == 403  # no session, no CSRF
