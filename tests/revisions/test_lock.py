"""The lock file: its YAML (exact, round-trips), strict loading, and every way it drifts from its template."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.lock import Lock, LockEntry, Want, check, dump, load, loads, lock_path

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
SOURCE = "git+https://git.example/acme/base.git"


def entry(reference: str, requested: str = "1.4", digest: str = D1, source: str = SOURCE) -> LockEntry:
    return LockEntry(reference, "acme/base", source, requested, "c0ffee" * 6 + "abcd", digest, "install-docker.sh")


LOCK = Lock("app.yaml", (entry("acme/base/install-docker@1.4"),
                         entry("acme/base/Install Docker@latest", "latest", D2),
                         entry("acme/base/yes", "yes")))

EXPECTED = f"""\
# Written by 'stackscripts templates lock' for app.yaml: every library reference of the
# template pinned to a revision (digest). Review it like code; update it with
# 'stackscripts templates lock TEMPLATE --update [SCRIPT]', not by hand.
lock: 1
template: app.yaml
scripts:
  acme/base/Install Docker@latest:
    library: acme/base
    source: {SOURCE}
    requested: latest
    resolved: c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeeabcd
    digest: {D2}
    path: install-docker.sh
  acme/base/install-docker@1.4:
    library: acme/base
    source: {SOURCE}
    requested: "1.4"
    resolved: c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeeabcd
    digest: {D1}
    path: install-docker.sh
  acme/base/yes:
    library: acme/base
    source: {SOURCE}
    requested: "yes"
    resolved: c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeeabcd
    digest: {D1}
    path: install-docker.sh
"""


def test_dump_is_reviewable_yaml_and_round_trips(tmp_path: Path) -> None:
    text = dump(LOCK)
    assert text == EXPECTED  # sorted by reference; "1.4" and "yes" quoted so that YAML reads them back as text
    path = tmp_path / "app.lock.yaml"
    path.write_text(text)
    loaded = load(path)
    assert loaded == LOCK.sorted() and loaded.file == str(path)
    assert [e.line for e in loaded.entries] == [7, 14, 21]
    assert dump(loaded) == text
    odd = Lock("my app.yaml", (entry("a/b/x: y #z@1", "1 #2", source="/srv/lib: old"),))
    assert loads(dump(odd), "x") == odd


def test_scripts_must_be_a_mapping() -> None:
    with pytest.raises(BadInput, match="^t.lock.yaml:3: 'scripts' must map references to their pins"):
        loads("lock: 1\ntemplate: app.yaml\nscripts: []\n", "t.lock.yaml")
    assert loads("lock: 1\ntemplate: app.yaml\nscripts: {}\n", "t.lock.yaml") == Lock("app.yaml")


def test_lock_path() -> None:
    assert lock_path("servertemplates/app.yaml") == Path("servertemplates/app.lock.yaml")
    assert lock_path("t/app.yml") == Path("t/app.lock.yaml")


@pytest.mark.parametrize(("edit", "line", "message"), [
    (("lock: 1", "lock: 2"), 4, "'lock: 1' expected, not 2"),
    (("template: app.yaml", "template: 3"), 5, "'template' must name the template file"),
    (("    requested: \"1.4\"", "    requested: 1.4"), 17, "'requested' must be text"),
    (("    path: install-docker.sh\n  acme/base/yes", "    path: ../x.sh\n  acme/base/yes"), 20,
     "path '../x.sh' is not a path in a tree"),
    (("    digest: " + D2, "    digest: sha256:12"), 12, "digest 'sha256:12' is not sha256:<64 hex digits>"),
    (("    library: acme/base\n    source: " + SOURCE + "\n    requested: latest",
      "    library: acme/base\n    sorce: x\n    requested: latest"), 9, "unknown key 'sorce'"),
])
def test_a_bad_lock_file_names_the_line(edit: tuple[str, str], line: int, message: str) -> None:
    text = EXPECTED.replace(*edit, 1)
    assert text != EXPECTED
    with pytest.raises(BadInput) as caught:
        loads(text, "t/app.lock.yaml")
    assert caught.value.file == "t/app.lock.yaml" and caught.value.line == line, str(caught.value)
    assert message in str(caught.value)


def wants() -> list[Want]:
    return [Want("acme/base/install-docker@1.4", "acme/base", SOURCE, "1.4", 4),
            Want("acme/base/Install Docker@latest", "acme/base", SOURCE, "latest", 5),
            Want("acme/base/yes", "acme/base", SOURCE, "yes", 6)]


def test_a_matching_lock_passes() -> None:
    check(loads(EXPECTED, "t/app.lock.yaml"), wants(), "t/app.yaml")


def drift(wanted: list[Want], text: str = EXPECTED, template: str = "t/app.yaml") -> BadInput:
    with pytest.raises(BadInput) as caught:
        check(loads(text, "t/app.lock.yaml"), wanted, template)
    assert "Run 'stackscripts templates lock t/app.yaml' to update the lock file" in str(caught.value) \
        or template != "t/app.yaml"
    return caught.value


def test_a_reference_the_lock_lacks_names_the_template_line() -> None:
    wanted = wants()
    wanted[0] = Want("acme/base/install-docker@1.5", "acme/base", SOURCE, "1.5", 4)
    error = drift(wanted)
    assert (error.file, error.line) == ("t/app.yaml", 4)
    assert str(error).startswith("t/app.yaml:4: acme/base/install-docker@1.5 is not in the lock file t/app.lock.yaml "
                                 "(the lock pins acme/base/install-docker@1.4 at t/app.lock.yaml:14)")


def test_a_pin_the_template_no_longer_uses_names_the_lock_line() -> None:
    error = drift(wants()[:2])
    assert str(error).startswith("t/app.lock.yaml:21: the lock pins acme/base/yes, which t/app.yaml no longer uses")


def test_a_changed_source_or_requested_ref_names_the_lock_line() -> None:
    wanted = wants()
    wanted[1] = Want("acme/base/Install Docker@latest", "acme/base", "git+ssh://other/base.git", "latest", 5)
    error = drift(wanted)
    assert str(error).startswith("t/app.lock.yaml:7: acme/base/Install Docker@latest: the lock has source "
                                 f"'{SOURCE}', and the template and project file now ask for 'git+ssh://other/base.git'")
    wanted = wants()
    wanted[2] = Want("acme/base/yes", "acme/base", SOURCE, "2.0", 6)  # the project file's ref changed
    assert "the lock has requested 'yes'" in str(drift(wanted))


def test_a_lock_for_another_template() -> None:
    error = drift(wants(), template="t/other.yaml")
    assert str(error).startswith("t/app.lock.yaml:5: this lock file is for 'app.yaml', not 'other.yaml'")
