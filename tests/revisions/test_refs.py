"""Library references: the forms a template writes, right_st's {Name, Revision, Publisher}, and the errors."""

from __future__ import annotations

import pytest

from stackscripts.errors import BadInput
from stackscripts.revisions.refs import LibraryRef, from_right_st, parse, split_ref

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "ref", "kind"), [
    ("acme/base/install-docker@1.4", LibraryRef("acme", "base", "install-docker", "1.4"), "version"),
    ("acme/base/Install Docker@latest", LibraryRef("acme", "base", "Install Docker", "latest"), "latest"),
    ("acme/base/install-docker.sh@head", LibraryRef("acme", "base", "install-docker.sh", "head"), "head"),
    (f"acme/base/x@{DIGEST}", LibraryRef("acme", "base", "x", DIGEST), "digest"),
    ("acme/base/x@v2.0.1+build.7", LibraryRef("acme", "base", "x", "v2.0.1+build.7"), "version"),
])
def test_references(text: str, ref: LibraryRef, kind: str) -> None:
    parsed = parse(text)
    assert parsed == ref and parsed.kind == kind and str(parsed) == text
    assert parsed.library_name == "acme/base"
    assert parsed.mutable is (kind == "head")


def test_without_a_version_only_a_project_library_is_a_reference() -> None:
    assert parse("acme/base/install-docker") is None  # a path or LIBRARY/NAME of a local library
    ref = parse("acme/base/install-docker", libraries=frozenset({"acme/base"}))
    assert ref == LibraryRef("acme", "base", "install-docker", "") and ref.kind == "project"
    assert parse("team/Say Hello") is None and parse("../scripts/x@1.sh") is None and parse("/abs/x@1") is None


@pytest.mark.parametrize(("text", "message"), [
    ("acme/install-docker@1.4", "it has '@' but not three parts before it"),
    ("acme/base/sub/x@1.4", "it has '@' but not three parts before it"),
    ("acme/base/x@", "has nothing after '@'"),
    ("acme/base/x@1 .4", "version '1 .4' is not latest, head"),
    ("acme/base/x@sha256:abc", "version 'sha256:abc' is not latest, head"),
    ("ac me/base/x@1", "'ac me/base' is not a library name"),
    ("acme/base/@1", "names no script"),
])
def test_malformed_references_name_the_file_and_line(text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse(text, file="t.yaml", line=7)
    assert str(caught.value).startswith("t.yaml:7: ") and message in str(caught.value), str(caught.value)
    assert "NAMESPACE/LIBRARY/SCRIPT@VERSION" in str(caught.value)


@pytest.mark.parametrize(("revision", "version"), [
    ("head", "head"), ("HEAD", "head"), (0, "head"), ("latest", "latest"), (3, "3"), ("1.4", "1.4"),
    (DIGEST, DIGEST), ("V2", "V2"),
])
def test_right_st_form(revision: object, version: str) -> None:
    ref = from_right_st("Install Docker", revision, "acme")
    assert ref == LibraryRef("acme", None, "Install Docker", version)
    assert ref.library_name is None and str(ref) == f"acme/*/Install Docker@{version}"


@pytest.mark.parametrize(("name", "revision", "publisher", "message"), [
    ("X", 1, None, "Publisher None is not a namespace"),
    ("X", 1, "Right Scale", "Publisher 'Right Scale' is not a namespace"),
    ("X", True, "acme", "Revision True is not a revision"),
    ("X", "1 2", "acme", "Revision '1 2' is not latest"),
    ("a/b", 1, "acme", "Name 'a/b' is not a script name"),
])
def test_right_st_errors(name: str, revision: object, publisher: object, message: str) -> None:
    with pytest.raises(BadInput, match="^t.yaml:3: " + message.replace("(", r"\(")):
        from_right_st(name, revision, publisher, file="t.yaml", line=3)


@pytest.mark.parametrize(("spec", "split"), [
    ("git+https://host/acme/base.git@v1.4", ("git+https://host/acme/base.git", "v1.4")),
    ("git+ssh://git@host/acme/base.git", ("git+ssh://git@host/acme/base.git", "")),
    ("s3://bucket/acme/base@1.4", ("s3://bucket/acme/base", "1.4")),
    ("oci://registry:5000/acme/base:1.4", ("oci://registry:5000/acme/base", "1.4")),  # an image reference's tag
    ("oci://registry:5000/acme/base@1.4", ("oci://registry:5000/acme/base", "1.4")),
    ("oci://registry:5000/acme/base", ("oci://registry:5000/acme/base", "")),  # the port is not a tag
    ("./scripts@head", ("./scripts", "head")),
])
def test_source_urls_and_their_refs(spec: str, split: tuple[str, str]) -> None:
    assert split_ref(spec) == split
