"""Deployment YAML: launch waves from env:SERVER:NAME references, and the mistakes refused with FILE:LINE.

(A deployment launched for real, wave after wave, stopping after a failed wave: tests/e2e/test_deploy_waves.py.)
"""

from __future__ import annotations

import pytest

from stackscripts.deployments import load_deployment
from tests.unit.conftest import Write
from tests.unit.helpers import bad_input, line_of

TEMPLATE = "Name: T\nRightScripts:\n  Boot:\n  - ../scripts/x.sh\n"


def deployment(write: Write, text: str) -> str:
    write("servertemplates/t.yaml", TEMPLATE)
    return str(write("deployments/d.yaml", text))


def wave_names(path: str) -> list[list[str]]:
    return [[s.name for s in wave] for wave in load_deployment(path).waves()]


def test_waves_follow_env_references_in_file_order(write: Write) -> None:
    path = deployment(write, """\
        Name: Shop
        Servers:
        - Name: worker
          Template: ../servertemplates/t.yaml
          Inputs:
            API: env:app:PRIVATE_IP
        - Name: app
          Template: ../servertemplates/t.yaml
          Inputs:
            DB_HOST: env:db:PRIVATE_IP
            CACHES: array:["env:cache:PRIVATE_IP","text:localhost"]
        - Name: db
          Template: ../servertemplates/t.yaml
        - Name: web
          Template: ../servertemplates/t.yaml
        - Name: cache
          Template: ../servertemplates/t.yaml
        """)
    assert wave_names(path) == [["db", "web", "cache"], ["app"], ["worker"]]
    assert load_deployment(path).servers[1].references() == {"db", "cache"}


def test_independent_servers_are_one_wave(write: Write) -> None:
    path = deployment(write, """\
        Servers:
        - {Name: a, Template: ../servertemplates/t.yaml}
        - {Name: b, Template: ../servertemplates/t.yaml}
        """)
    assert wave_names(path) == [["a", "b"]]
    assert load_deployment(path).name == "d"  # no Name: the file's stem


def test_a_deployment_level_reference_comes_before_every_other_server(write: Write) -> None:
    path = deployment(write, """\
        Inputs:
          REGISTRY: env:registry:PRIVATE_IP
        Servers:
        - {Name: app, Template: ../servertemplates/t.yaml}
        - {Name: registry, Template: ../servertemplates/t.yaml}
        - {Name: worker, Template: ../servertemplates/t.yaml}
        """)
    assert wave_names(path) == [["registry"], ["app", "worker"]]


def test_a_reference_to_an_unknown_server_names_its_line(write: Write) -> None:
    text = """\
        Servers:
        - Name: app
          Template: ../servertemplates/t.yaml
        - Name: worker
          Template: ../servertemplates/t.yaml
          Inputs:
            API: env:ap:PRIVATE_IP
        """
    path = deployment(write, text)
    err = bad_input(lambda: load_deployment(path))
    assert "server worker references unknown server 'ap'" in err.message
    assert (err.file, err.line) == (path, line_of(text, "- Name: worker"))
    assert "app, worker" in err.hint


def test_a_deployment_input_referencing_an_unknown_server_names_its_line(write: Write) -> None:
    text = "Inputs:\n  X: env:ghost:PRIVATE_IP\nServers:\n- {Name: app, Template: ../servertemplates/t.yaml}\n"
    path = deployment(write, text)
    err = bad_input(lambda: load_deployment(path))
    assert "unknown server 'ghost'" in err.message and (err.file, err.line) == (path, 1)


def test_a_cycle_is_refused_with_the_line_of_a_server_in_it(write: Write) -> None:
    text = """\
        Servers:
        - Name: standalone
          Template: ../servertemplates/t.yaml
        - Name: a
          Template: ../servertemplates/t.yaml
          Inputs:
            B: env:b:PRIVATE_IP
        - Name: b
          Template: ../servertemplates/t.yaml
          Inputs:
            C: env:c:PRIVATE_IP
        - Name: c
          Template: ../servertemplates/t.yaml
          Inputs:
            A: env:a:SOME_INPUT
        """
    path = deployment(write, text)
    err = bad_input(lambda: load_deployment(path).waves())
    assert "env: references form a cycle between a, b, c" in err.message
    assert (err.file, err.line) == (path, line_of(text, "- Name: a"))
    assert "launched before it" in err.hint


def test_a_server_referencing_itself_is_a_cycle(write: Write) -> None:
    text = "Servers:\n- Name: loop\n  Template: ../servertemplates/t.yaml\n  Inputs:\n    ME: env:loop:PRIVATE_IP\n"
    path = deployment(write, text)
    err = bad_input(lambda: load_deployment(path).waves())
    assert "cycle between loop" in err.message and (err.file, err.line) == (path, 2)


def test_two_servers_with_one_name_are_refused_at_the_second(write: Write) -> None:
    text = """\
        Servers:
        - Name: app
          Template: ../servertemplates/t.yaml
        - Name: db
          Template: ../servertemplates/t.yaml
        - Name: app
          Template: ../servertemplates/t.yaml
        """
    path = deployment(write, text)
    err = bad_input(lambda: load_deployment(path))
    assert "two servers are named 'app' (first at line 2)" in err.message
    assert (err.file, err.line) == (path, 6) and "unique Name" in err.hint


@pytest.mark.parametrize(("text", "expect"), [
    ("Servers: []\n", "a deployment needs a list of Servers"),
    ("Servers:\n- Name: app\n", "each server needs a Name and a Template"),
    ("Servers:\n- {Name: app, Template: t.yaml, Colour: red}\n", "server app: unknown key 'Colour'"),
    ("Name: x\nServer: []\n", "deployment: unknown key 'Server'"),
])
def test_malformed_deployments(write: Write, text: str, expect: str) -> None:
    path = deployment(write, text)
    err = bad_input(lambda: load_deployment(path))
    assert expect in err.message and err.file == path and err.line is not None
