"""The project file: found by walking up, validated strictly (file:line), edited in place by `libraries add`."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.api.libraries import project
from stackscripts.errors import BadInput
from stackscripts.project import LibrarySpec, Project, find, load, loads
from stackscripts.project_edit import add_library, with_library

FULL = """\
# the team's project
libraries:
  acme/base:
    source: git+https://git.example/acme/base.git
    ref: "1.4"
  team/tools:
    source: ./scripts
  ops/extra: git+file:///srv/git/extra.git@v2
store: ~/.local/state/stackscripts/audit.db
cloud: local
credential backends: [env, file]
"""


def test_a_full_project_file(tmp_path: Path) -> None:
    (tmp_path / "stackscripts.yaml").write_text(FULL)
    loaded = load(tmp_path / "stackscripts.yaml")
    assert loaded.libraries == (
        LibrarySpec("acme/base", "git+https://git.example/acme/base.git", "1.4", 4),
        LibrarySpec("team/tools", "./scripts", "", 7),
        LibrarySpec("ops/extra", "git+file:///srv/git/extra.git", "v2", 8),
    )
    assert (loaded.store, loaded.cloud, loaded.credential_backends) == (
        "~/.local/state/stackscripts/audit.db", "local", ("env", "file"))
    assert loaded.names() == {"acme/base", "team/tools", "ops/extra"} and loaded.folder == tmp_path


def test_found_by_walking_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKSCRIPTS_PROJECT", raising=False)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find(deep) is None or not str(find(deep)).startswith(str(tmp_path))
    (tmp_path / "a" / "stackscripts.yaml").write_text("libraries: {}\n")
    assert find(deep) == tmp_path / "a" / "stackscripts.yaml"
    monkeypatch.chdir(deep)
    assert find() == tmp_path / "a" / "stackscripts.yaml"
    monkeypatch.setenv("STACKSCRIPTS_PROJECT", str(tmp_path / "elsewhere.yaml"))
    assert find(deep) == tmp_path / "elsewhere.yaml"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("librarys: {}\n", 1, "unknown key 'librarys'"),
    ("libraries: [a]\n", 1, "'libraries' must map library names"),
    ("libraries:\n  base:\n    source: x\n", 2, "'base' is not a library name"),
    ("libraries:\n  acme/base:\n    sorce: x\n", 3, "library acme/base: unknown key 'sorce'"),
    ("libraries:\n  acme/base:\n    ref: v1\n", 3, "library acme/base: 'source' must be a folder or URL"),
    ("libraries:\n  acme/base:\n    source: x\n    ref: 1.4\n", 4, "library acme/base: 'ref' must be text, not 1.4"),
    ("libraries:\n  acme/base:\n    source: x\n    ref: a b\n", 3, "library acme/base: ref 'a b' is not latest"),
    ("libraries:\n  acme/base: 3\n", 2, "library acme/base: write its source"),
    ("cloud: 3\n", 1, "'cloud' must be text, not 3"),
    ("credential backends: env\n", 1, "'credential backends' must be a list of backend names"),
    ("- a\n", 1, "a project file must be a YAML mapping"),
    ("libraries:\n  acme/base: x\n  acme/base: y\n", 3, "duplicate key 'acme/base' (first at line 2)"),
])
def test_mistakes_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        loads(text, Path("p/stackscripts.yaml"))
    assert (caught.value.file, caught.value.line) == ("p/stackscripts.yaml", line), str(caught.value)
    assert message in str(caught.value)


def test_an_unknown_scheme_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "stackscripts.yaml").write_text("libraries:\n  acme/base:\n    source: ftp://h/x\n")
    with pytest.raises(BadInput) as caught:
        project(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}/stackscripts.yaml:3: no source handles 'ftp://h/x'")
    assert loads("", tmp_path / "x") == Project(tmp_path / "x")


NEW = LibrarySpec("acme/new", "git+ssh://git@h/new.git", "2.0")


def test_adding_keeps_every_other_line() -> None:
    edited = with_library(FULL, NEW, "f")
    assert edited == FULL.replace("store:", "  acme/new:\n    source: git+ssh://git@h/new.git\n    ref: \"2.0\"\nstore:")
    replaced = with_library(FULL, LibrarySpec("team/tools", "/srv/tools"), "f")
    assert replaced == FULL.replace("  team/tools:\n    source: ./scripts\n", "  team/tools:\n    source: /srv/tools\n")
    last = with_library(FULL, LibrarySpec("ops/extra", "/srv/extra", "head"), "f")
    assert "  ops/extra:\n    source: /srv/extra\n    ref: head\nstore:" in last
    assert loads(last, Path("f")).library("ops/extra") == LibrarySpec("ops/extra", "/srv/extra", "head", 9)


@pytest.mark.parametrize(("text", "expected"), [
    ("", None),
    ("cloud: local  # ours\n", "cloud: local  # ours\nlibraries:\n  acme/new:\n"),
    ("libraries: {}\ncloud: local\n", "libraries:\n  acme/new:\n    source: git+ssh://git@h/new.git\n    ref: \"2.0\"\ncloud"),
    ("libraries:\n    x/y: /a\n\n# end\n", "libraries:\n    x/y: /a\n    acme/new:\n      source: git+ssh://git@h/new.git\n"
                                             "      ref: \"2.0\"\n\n# end\n"),
])
def test_adding_to_other_shapes(text: str, expected: str | None) -> None:
    edited = with_library(text, NEW, "f")
    assert loads(edited, Path("f")).library("acme/new") is not None
    if expected is None:
        assert edited.startswith("# stackscripts project file")
    else:
        assert edited.startswith(expected), edited


def test_a_flow_mapping_is_refused() -> None:
    with pytest.raises(BadInput, match="^f:1: 'libraries add' cannot edit 'libraries' written in flow style"):
        with_library("libraries: {x/y: /a}\n", NEW, "f")


def test_add_library_writes_atomically(tmp_path: Path) -> None:
    written = add_library(None, NEW, tmp_path)
    path = tmp_path / "stackscripts.yaml"
    assert written.library("acme/new") is not None and load(path).library("acme/new") is not None
    path.chmod(0o600)
    add_library(path, LibrarySpec("acme/two", "/srv/two"), tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600 and [p.name for p in tmp_path.iterdir()] == ["stackscripts.yaml"]
    assert load(path).names() == {"acme/new", "acme/two"}
