"""Inventory files (stackscripts/inventory.py): each format read into entries, groups from nested children,
and every kind of bad input refused with its file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.inventory import InventoryEntry, load_inventory


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def by_name(path: Path) -> dict[str, InventoryEntry]:
    return {e.name: e for e in load_inventory(path)}


def refused(tmp_path: Path, name: str, text: str, line: int | None, words: str) -> BadInput:
    path = write(tmp_path, name, text)
    with pytest.raises(BadInput) as info:
        load_inventory(path)
    exc = info.value
    assert (exc.file, exc.line) == (str(path), line), str(exc)
    assert str(exc).startswith(f"{path}:{line}: " if line else f"{path}: "), str(exc)
    assert words in str(exc), str(exc)
    return exc


def test_our_yaml_form(tmp_path: Path) -> None:
    path = write(tmp_path, "servers.yaml", """\
Servers:
- Name: web1
  Host: deploy@203.0.113.7
  Port: 2222
  Key: keys/web.key
  Groups: [web, eu]
- Name: db1.example.com      # no Host: the name is the address
  Key: cred:DB_KEY
  Groups: db
- Name: cache1
  Host: "[2001:db8::5]"
""")
    entries = load_inventory(path)
    assert [e.name for e in entries] == ["web1", "db1.example.com", "cache1"]
    web1, db1, cache1 = entries
    assert web1 == InventoryEntry("web1", "203.0.113.7", 2222, "deploy", str(tmp_path / "keys" / "web.key"),
                                  ("eu", "web"), str(path), 2)
    assert (db1.host, db1.port, db1.user, db1.key, db1.groups, db1.line) == (
        "db1.example.com", 22, "root", "cred:DB_KEY", ("db",), 7)
    assert (cache1.host, cache1.groups) == ("2001:db8::5", ())


def test_a_home_key_and_an_absolute_key_stay_where_they_are(tmp_path: Path) -> None:
    entries = by_name(write(tmp_path, "s.yml", "Servers:\n- {Name: a, Host: 10.0.0.1, Key: ~/.ssh/id}\n"
                                               "- {Name: b, Host: 10.0.0.2, Key: /etc/keys/b}\n"))
    assert entries["a"].key == os.path.expanduser("~/.ssh/id")
    assert entries["b"].key == "/etc/keys/b"


def test_an_ansible_yaml_inventory_with_nested_children(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts.yml", """\
all:
  vars:
    ansible_user: admin
    ntp_server: ntp.example.com     # a playbook's variable: left out
  hosts:
    bastion.example.com:
  children:
    web:
      vars:
        ansible_port: 2200
      hosts:
        web1:
          ansible_host: 10.1.0.1
        web2: {ansible_host: 10.1.0.2, ansible_port: 2222}
      children:
        web_eu:
          vars:
            ansible_user: eu
          hosts:
            web3:
              ansible_host: 2001:db8::3
              ansible_ssh_private_key_file: /keys/eu
    db:
      hosts:
        db1: {ansible_host: 10.2.0.1, ansible_python_interpreter: /usr/bin/python3}
        web1:
""")
    entries = by_name(path)
    assert list(entries) == ["bastion.example.com", "web1", "web2", "web3", "db1"]
    assert entries["bastion.example.com"] == InventoryEntry("bastion.example.com", "bastion.example.com", 22, "admin",
                                                            None, (), str(path), 6)
    assert (entries["web1"].host, entries["web1"].port, entries["web1"].groups) == ("10.1.0.1", 2200, ("db", "web"))
    assert entries["web1"].line == 12
    assert (entries["web2"].port, entries["web2"].user) == (2222, "admin")  # the host's own vars win
    web3 = entries["web3"]
    assert (web3.host, web3.port, web3.user, web3.key, web3.groups) == (
        "2001:db8::3", 2200, "eu", "/keys/eu", ("web", "web_eu"))  # the child group's vars over its parent's
    assert entries["db1"].groups == ("db",)


def test_an_ansible_ini_inventory(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts", """\
# hosts before any section are ungrouped
bastion.example.com ansible_user=ops

[web]
web[01:03].example.com
web-eu ansible_host=203.0.113.10 ansible_port=2222 http_port=80   # a playbook's variable

[db]
db1 ansible_host="10.0.0.5"   # primary
db2:2200 ansible_host=10.0.0.6

[eu]
web-eu

[prod:children]
web
db

[prod:vars]
ansible_user = deploy
ansible_ssh_private_key_file="keys/prod key"

[all:vars]
ansible_user=nobody
""")
    entries = load_inventory(path)
    assert [e.name for e in entries] == ["bastion.example.com", "web01.example.com", "web02.example.com",
                                         "web03.example.com", "web-eu", "db1", "db2"]
    found = {e.name: e for e in entries}
    assert (found["bastion.example.com"].user, found["bastion.example.com"].groups) == ("ops", ())
    assert found["web02.example.com"] == InventoryEntry(
        "web02.example.com", "web02.example.com", 22, "deploy", str(tmp_path / "keys" / "prod key"),
        ("prod", "web"), str(path), 5)
    assert (found["web-eu"].host, found["web-eu"].port, found["web-eu"].groups) == ("203.0.113.10", 2222,
                                                                                    ("eu", "prod", "web"))
    assert (found["db1"].host, found["db1"].line) == ("10.0.0.5", 9)
    assert (found["db2"].host, found["db2"].port, found["db2"].groups) == ("10.0.0.6", 2200, ("db", "prod"))


def test_ini_ranges_with_letters_and_steps(tmp_path: Path) -> None:
    names = [e.name for e in load_inventory(write(tmp_path, "r.ini", "[a]\ndb-[a:c]\nn[0:10:5]x\n"))]
    assert names == ["db-a", "db-b", "db-c", "n0x", "n5x", "n10x"]


def test_a_csv_inventory(tmp_path: Path) -> None:
    path = write(tmp_path, "servers.csv", """\
name,host,port,user,key,groups
web1,203.0.113.7,2222,deploy,keys/web.key,web eu
# a comment line
web2,admin@203.0.113.8,,,cred:WEB_KEY,"web;us"

db1.example.com,,,,,
""")
    entries = load_inventory(path)
    assert entries[0] == InventoryEntry("web1", "203.0.113.7", 2222, "deploy", str(tmp_path / "keys" / "web.key"),
                                        ("eu", "web"), str(path), 2)
    assert (entries[1].user, entries[1].port, entries[1].key, entries[1].groups, entries[1].line) == (
        "admin", 22, "cred:WEB_KEY", ("us", "web"), 4)
    assert (entries[2].host, entries[2].groups, entries[2].line) == ("db1.example.com", (), 6)


def test_csv_columns_in_any_order_and_only_a_name(tmp_path: Path) -> None:
    entries = load_inventory(write(tmp_path, "s.csv", "Groups,Name\nweb,web1.example.com\n"))
    assert (entries[0].name, entries[0].host, entries[0].groups) == ("web1.example.com", "web1.example.com", ("web",))


@pytest.mark.parametrize(("name", "text", "line", "words"), [
    # unknown keys
    ("s.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n  Adress: x\n", 4, "unknown key 'Adress'"),
    ("s.yaml", "Servers: []\nHosts: []\n", 2, "unknown key 'Hosts'"),
    ("h.yaml", "all:\n  hosts:\n    web1:\n      ansible_host: 10.0.0.1\n      ansible_password: x\n", 5,
     "unknown key 'ansible_password'"),
    ("h.yaml", "all:\n  host:\n    web1:\n", 2, "unknown key 'host'"),
    ("h.ini", "[web]\nweb1 ansible_host=10.0.0.1 ansible_become=true\n", 2, "unknown key 'ansible_become'"),
    ("h.ini", "[web:vars]\nansible_ssh_pass=secret\n", 2, "unknown key 'ansible_ssh_pass'"),
    ("h.ini", "[web:host]\nweb1\n", 1, "unknown section kind 'host'"),
    ("h.ini", "[web]\nweb1 ansible_connection=local\n", 2, "reaches servers over SSH only"),
    ("s.csv", "name,host,adress\nweb1,10.0.0.1,x\n", 1, "unknown column 'adress'"),
    ("s.csv", "host,port\n10.0.0.1,22\n", 1, "no name column"),
    # no address, and a name that is not a host name
    ("s.yaml", "Servers:\n- Name: web1\n  Port: 22\n- Name: db_primary\n", 4,
     "db_primary has no address, and its name is not a host name"),
    ("h.yaml", "all:\n  children:\n    db:\n      hosts:\n        db_primary:\n", 5, "not a host name"),
    ("h.ini", "[db]\n\ndb_primary\n", 3, "not a host name"),
    ("s.csv", "name,host\nweb1,10.0.0.1\ndb_primary,\n", 3, "not a host name"),
    # bad addresses, users and names
    ("s.yaml", "Servers:\n- Name: web1\n  Host: root@10.0.0.1;touch /tmp/x\n", 3, "is not a host name"),
    ("h.ini", "[web]\nweb1 ansible_host=-oProxyCommand=x\n", 2, "is not a host name"),
    ("h.ini", "[web]\nweb1 ansible_host=10.0.0.1 ansible_user=-x\n", 2, "'-x' is not a user name"),
    ("s.csv", "name,host,user\nweb1,ops@10.0.0.1,deploy\n", 2, "the host says user 'ops', the user says 'deploy'"),
    ("s.yaml", "Servers:\n- Name: -web\n  Host: 10.0.0.1\n", 2, "invalid server name '-web'"),
    ("s.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n  Groups: [web, 'bad group']\n", 2,
     "invalid group name 'bad group'"),
    ("h.ini", "[web servers]\nweb1\n", 1, "invalid group name 'web servers'"),
    ("s.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n  Key: cred:bad key\n", 4, "not a valid credential name"),
    # bad ports
    ("s.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n  Port: 70000\n", 4, "70000 is not a TCP port"),
    ("s.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n  Port: true\n", 4, "is not a TCP port"),
    ("h.ini", "[web]\nweb1 ansible_host=10.0.0.1 ansible_port=ssh\n", 2, "'ssh' is not a TCP port"),
    ("h.ini", "[web:vars]\nansible_port=0\n[web]\nweb1.example.com\n", 2, "0 is not a TCP port"),
    ("h.yaml", "all:\n  hosts:\n    web1:\n      ansible_host: 10.0.0.1\n      ansible_port: -1\n", 5,
     "-1 is not a TCP port"),
    ("s.csv", "name,host,port\nweb1,10.0.0.1,22\nweb2,10.0.0.2,2 2\n", 3, "'2 2' is not a TCP port"),
    # duplicate names
    ("s.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n- Name: web1\n  Host: 10.0.0.2\n", 4,
     "two servers are named 'web1' (first at line 2)"),
    ("s.csv", "name,host\nweb1,10.0.0.1\nweb2,10.0.0.2\nweb1,10.0.0.3\n", 4, "(first at line 2)"),
    ("h.yaml", "all:\n  hosts:\n    web1:\n    web1:\n", 4, "duplicate key 'web1' (first at line 3)"),
    # CSV rows with the wrong column count
    ("s.csv", "name,host,port\nweb1,10.0.0.1,22\nweb2,10.0.0.2\n", 3, "this row has 2 columns, the header has 3"),
    ("s.csv", "name,host\nweb1,10.0.0.1,22,x\n", 2, "this row has 4 columns"),
    ("s.csv", "name,host\n\"web1,10.0.0.1\nweb2,\"x\"y\n", 3, "invalid CSV"),
    # YAML syntax errors
    ("s.yaml", "Servers:\n- Name: web1\n  Host: [10.0.0.1\n", 4, "The '[' opened at line 3 is never closed"),
    ("h.yml", "all:\n  hosts:\n    web1:\n   bad: indent\n", 4, "invalid YAML"),
    # structure
    ("s.yaml", "Servers:\n- Host: 10.0.0.1\n", 2, "each server needs a Name"),
    ("s.yaml", "- web1\n", 1, "must be a YAML mapping"),
    ("h.yaml", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n", 3,
     "group 'a' is its own child"),
    ("h.ini", "[web]\nweb1 'unclosed\n", 2, "cannot read this host line"),
    ("h.ini", "[web]\nweb1 ansible_host\n", 2, "'ansible_host' is not NAME=VALUE"),
    ("h.ini", "[web]\nweb[09:01]\n", 2, "must go up"),
    ("h.ini", "[web:vars]\nansible_user\n", 2, "takes NAME=VALUE lines"),
])
def test_bad_input_names_the_file_and_line(tmp_path: Path, name: str, text: str, line: int, words: str) -> None:
    refused(tmp_path, name, text, line, words)


def test_files_that_are_not_inventories(tmp_path: Path) -> None:
    refused(tmp_path, "s.json", "{}", None, "unknown inventory format '.json'")
    refused(tmp_path, "empty.ini", "# nothing\n[web]\n", None, "lists no server")
    refused(tmp_path, "empty.yaml", "all: {}\n", None, "lists no server")
    with pytest.raises(BadInput, match="no such inventory"):
        load_inventory(tmp_path / "missing.csv")
