"""Server records on both backends: create, read, update, delete, the lock that keeps a busy server."""

from __future__ import annotations

import time

import pytest

from stackscripts.errors import BadInput, Conflict, NotFound, StackscriptsError
from stackscripts.store.base import ServerRecord
from stackscripts.store.sql_store import SQLStore
from tests.store.conftest import Backend


def test_put_get_list_delete(store: SQLStore) -> None:
    before = time.time()
    record = ServerRecord(
        "web1", host="10.0.0.5", port=2222, user="admin", key_path="/k/id_ed25519",
        host_key="ssh-ed25519 AAAA", state="booting", template="t/aio.yml",
        template_sha256="ab" * 32, inputs={"DOCKER_PACKAGE": "text:docker.io"}, cloud="local",
        node_id="n-1", deployment="prod", extra={"volumes": ["/dev/xvdb"], "size": 2})
    store.put_server(record)
    store.put_server(ServerRecord("db1"))
    got = store.get_server("web1")
    assert got.created >= before and got.updated >= got.created
    assert got == ServerRecord(**{**record.__dict__, "created": got.created,
                                  "updated": got.updated})
    assert [server.name for server in store.list_servers()] == ["db1", "web1"]
    store.delete_server("db1")
    with pytest.raises(NotFound, match="unknown server 'db1'"):
        store.get_server("db1")
    with pytest.raises(NotFound):
        store.delete_server("db1")


def test_put_replaces_but_keeps_created(store: SQLStore) -> None:
    store.put_server(ServerRecord("web1", host="a"))
    first = store.get_server("web1")
    store.put_server(ServerRecord("web1", host="b"))
    second = store.get_server("web1")
    assert second.host == "b" and second.created == first.created
    assert second.updated >= first.updated


def test_masked_inputs_are_stored_exactly_as_given(store: SQLStore) -> None:
    masked = {"DB_PASSWORD": "cred:DB_PASSWORD (****)", "NAME": "text:é ünïcode", "EMPTY": ""}
    store.put_server(ServerRecord("web1", inputs=masked))
    assert dict(store.get_server("web1").inputs) == masked
    assert list(store.get_server("web1").inputs) == list(masked)  # order kept


def test_update_server_validates_fields_and_bumps_updated(store: SQLStore) -> None:
    store.put_server(ServerRecord("web1"))
    old = store.get_server("web1")
    new = store.update_server("web1", state="operational", host="10.0.0.9",
                              extra={"volume": "vol-1"}, port=2200)
    assert (new.state, new.host, dict(new.extra), new.port) == (
        "operational", "10.0.0.9", {"volume": "vol-1"}, 2200)
    assert new.updated > old.updated and new.created == old.created
    assert store.get_server("web1") == new
    with pytest.raises(StackscriptsError, match="unknown or read-only server field: colour"):
        store.update_server("web1", colour="blue")
    with pytest.raises(BadInput, match="read-only server field: created"):
        store.update_server("web1", created=1.0)
    with pytest.raises(BadInput, match="port"):
        store.update_server("web1", port="22")
    with pytest.raises(NotFound):
        store.update_server("nope", state="operational")
    assert store.get_server("web1") == new


def test_a_server_held_by_a_running_run_cannot_be_deleted(store: SQLStore) -> None:
    store.put_server(ServerRecord("web1"))
    run_id = store.start_run("web1", "Boot", who="me", template=None, inputs={})
    with pytest.raises(Conflict, match="web1 is busy"):
        store.delete_server("web1")
    store.finish_run(run_id, "succeeded")
    store.delete_server("web1")
    assert store.get_run(run_id).server == "web1"  # the history outlives the server


def test_closed_store_refuses_calls(backend: Backend) -> None:
    store = backend.open()
    store.close()
    store.close()  # idempotent
    with pytest.raises(StackscriptsError, match="closed"):
        store.list_servers()


def test_a_user_column_named_user_round_trips(store: SQLStore) -> None:
    """servers.user is a reserved word on PostgreSQL: every statement quotes it."""
    store.put_server(ServerRecord("web1", user="admin"))
    assert store.get_server("web1").user == "admin"
    assert store.update_server("web1", user="ops").user == "ops"
    assert [s.user for s in store.list_servers()] == ["ops"]
