"""A template's library references through `stackscripts.api`: a folder library (mutable), the project's ref for a
reference without '@', `@sha256:` from the cache, and the errors that name the template's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts import api
from stackscripts.errors import BadInput
from stackscripts.revisions.manifest import scan
from tests.sources.conftest import write_library


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STACKSCRIPTS_CACHE", raising=False)
    monkeypatch.delenv("STACKSCRIPTS_PROJECT", raising=False)
    write_library(tmp_path / "shared")
    api.libraries.add_library("acme/base", "./shared")
    return tmp_path


def template(folder: Path, *refs: str) -> Path:
    path = folder / "t.yaml"
    path.write_text("Name: T\nRightScripts:\n  Boot:\n" + "".join(f"  - {r}\n" for r in refs))
    return path


def test_a_folder_library_is_pinned_by_its_lock(project: Path) -> None:
    path = template(project, "acme/base/say-hello@head", "acme/base/Install Tools")
    first = scan(project / "shared").digest
    assert api.validate_template(path).steps  # unlocked: resolved now
    locked = api.revisions.lock_template(path)
    assert {e.digest for e in locked.lock.entries} == {first}
    assert {e.requested for e in locked.lock.entries} == {"head"}  # the project gives no ref: head
    hello = project / "shared" / "say-hello.sh"
    hello.write_text(hello.read_text() + "echo edited\n")
    steps = api.plan(path).steps
    assert "echo edited" not in steps[0].script.text and first.removeprefix("sha256:") in str(steps[0].script.path)
    assert steps[0].script.library == "acme/base" and steps[0].script.ref == "acme/base/Say Hello"
    updated = api.revisions.lock_template(path, update="say-hello")
    assert updated.updated == ("acme/base/say-hello@head",) and updated.unchanged == ("acme/base/Install Tools",)
    assert "echo edited" in api.plan(path).steps[0].script.text


def test_a_digest_reference_comes_from_the_cache(project: Path) -> None:
    digest = scan(project / "shared").digest
    path = template(project, f"acme/base/say-hello@{digest}")
    assert api.revisions.lock_template(path).lock.entries[0].digest == digest  # add_library fetched it
    other = template(project, "acme/base/say-hello@sha256:" + "0" * 64)
    with pytest.raises(BadInput) as caught:
        api.revisions.lock_template(other)
    assert (caught.value.file, caught.value.line) == (str(other), 4)
    assert "is not in the local cache" in str(caught.value)


@pytest.mark.parametrize(("ref", "message"), [
    ("acme/other/x@1", "acme/other/x@1: library acme/other is not in the project file"),
    ("acme/base/nothing@head", "library acme/base at head (sha256:"),
    ("acme/base/x@1.4", "unknown ref '1.4': a folder has no versions"),
    ("acme/x@1", "is not a library reference"),
])
def test_bad_references_name_the_line(project: Path, ref: str, message: str) -> None:
    path = template(project, "acme/base/say-hello@head", ref)
    with pytest.raises(BadInput) as caught:
        api.revisions.lock_template(path)
    assert message in str(caught.value)
    if "unknown ref" not in message:  # the source's own error names the source instead
        assert (caught.value.file, caught.value.line) == (str(path), 5)
    assert not (project / "t.lock.yaml").exists()


def test_an_existing_path_is_never_a_reference(project: Path) -> None:
    (project / "acme" / "base").mkdir(parents=True)
    (project / "acme" / "base" / "local@1.sh").write_text("#!/bin/bash\n# ---\n# RightScript Name: L\n# Inputs: {}\n# ...\n")
    path = template(project, "acme/base/local@1.sh")
    assert api.validate_template(path).steps
    assert api.revisions.lock_template(path).lock.entries == ()


def test_without_a_project_file_a_reference_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKSCRIPTS_PROJECT", raising=False)
    path = template(tmp_path, "acme/base/x@1")
    with pytest.raises(BadInput, match=r"library acme/base is not in a project file \(none found"):
        api.validate_template(path)


def publisher_template(folder: Path, revision: str = "head") -> Path:
    path = folder / "rs.yaml"
    path.write_text("Name: T\nRightScripts:\n  Boot:\n  - Name: Say Hello\n"
                    f"    Revision: {revision}\n    Publisher: acme\n")
    return path


def test_right_st_publisher_resolves_through_the_namespace(project: Path) -> None:
    """{Name, Revision, Publisher}: the one library of namespace acme that has the script; locked like any
    reference, and run from the cached tree."""
    path = publisher_template(project)
    locked = api.revisions.lock_template(path)
    entry = locked.lock.entries[0]
    assert (entry.reference, entry.library, entry.requested) == ("acme/*/Say Hello@head", "acme/base", "head")
    step = api.plan(path).steps[0]
    assert step.script.library == "acme/base" and str(step.script.path).startswith(str(project / "cache"))


def test_two_libraries_offering_a_script_is_an_error_naming_both(project: Path) -> None:
    write_library(project / "forked")
    api.libraries.add_library("acme/fork", "./forked")
    path = publisher_template(project, "0")  # right_st's 0 is head
    with pytest.raises(BadInput) as caught:
        api.revisions.lock_template(path)
    message = str(caught.value)
    assert "acme/base (./shared) and acme/fork (./forked) both offer script 'Say Hello'" in message
    assert (caught.value.file, caught.value.line, caught.value.exit_code) == (str(path), 4, 2)
    assert not (project / "rs.lock.yaml").exists()


def test_a_publisher_with_no_library_is_named(project: Path) -> None:
    path = project / "rs.yaml"
    path.write_text("Name: T\nRightScripts:\n  Boot:\n  - {Name: Say Hello, Revision: latest, Publisher: globex}\n")
    with pytest.raises(BadInput, match="no library of namespace 'globex' \\(Publisher\\)"):
        api.validate_template(path)
    path.write_text("Name: T\nRightScripts:\n  Boot:\n  - {Name: Nothing Here, Revision: head, Publisher: acme}\n")
    with pytest.raises(BadInput, match="no library of namespace 'acme' has script 'Nothing Here'"):
        api.validate_template(path)
