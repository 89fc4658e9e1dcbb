"""Libraries and the catalog: scripts by path, LIBRARY/NAME, RightScript Name or file stem."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.catalog.library import Catalog, Library
from stackscripts.catalog.scripts import content_hash, load_script
from stackscripts.errors import NotFound
from tests.unit.helpers import bad_input, block


@pytest.fixture
def libs(write, tmp_path: Path) -> Catalog:
    write("core/install-docker.sh", block("RightScript Name: Install Docker", "Inputs: {}"))
    write("core/nested/setup-btrfs.sh", block("RightScript Name: 'Setup Btrfs'", "Inputs: {}"))
    write("core/attachments/ignored.sh", "not a script of the library\n")
    write("core/README.md", "not a script\n")
    write("apps/launch-apps.sh", block("RightScript Name: Launch Apps", "Inputs: {}"))
    write("apps/install-docker.sh", block("RightScript Name: Install Docker (apps)", "Inputs: {}"))
    return Catalog([Library(tmp_path / "core"), Library.parse_spec(f"team={tmp_path / 'apps'}")])


def test_library_files_skip_attachments_and_other_files(libs: Catalog) -> None:
    core = libs.libraries[0]
    assert core.name == "core"
    assert [p.name for p in core.files()] == ["install-docker.sh", "setup-btrfs.sh"]
    assert libs.libraries[1].name == "team"


def test_by_path_relative_to_a_base(libs: Catalog, tmp_path: Path) -> None:
    (tmp_path / "servertemplates").mkdir()
    script = libs.resolve("../core/install-docker.sh", tmp_path / "servertemplates")
    assert script.name == "Install Docker"
    assert script.library == "core"
    assert script.ref == "core/Install Docker"


def test_by_path_outside_every_library(write, libs: Catalog) -> None:
    path = write("loose/x.sh", block("RightScript Name: Loose", "Inputs: {}"))
    assert libs.resolve(str(path)).library is None


def test_by_library_and_name(libs: Catalog) -> None:
    assert libs.resolve("team/Launch Apps").name == "Launch Apps"
    assert libs.resolve("core/Setup Btrfs").path.name == "setup-btrfs.sh"
    assert libs.resolve("team/install-docker").name == "Install Docker (apps)"


def test_by_rightscript_name_file_stem_and_file_name(libs: Catalog) -> None:
    assert libs.resolve("Launch Apps").library == "team"
    assert libs.resolve("launch-apps").name == "Launch Apps"
    assert libs.resolve("setup-btrfs.sh").name == "Setup Btrfs"


def test_ambiguous_name_across_two_libraries(libs: Catalog) -> None:
    err = bad_input(lambda: libs.resolve("install-docker", file="t.yaml", line=7))
    assert "several libraries" in err.message
    assert "core/Install Docker" in err.message and "team/Install Docker (apps)" in err.message
    assert (err.file, err.line) == ("t.yaml", 7)
    assert "LIBRARY/NAME" in err.hint


def test_ambiguous_name_inside_one_library(write, tmp_path: Path) -> None:
    write("dup/a/x.sh", block("RightScript Name: One", "Inputs: {}"))
    write("dup/b/x.sh", block("RightScript Name: Two", "Inputs: {}"))
    err = bad_input(lambda: Catalog([Library(tmp_path / "dup")]).resolve("x"))
    assert "2 scripts are named 'x'" in err.message


def test_unknown_script(libs: Catalog) -> None:
    err = bad_input(lambda: libs.resolve("Nope", file="t.yaml", line=3))
    assert isinstance(err, NotFound)
    assert "unknown script 'Nope'" in err.message
    assert (err.file, err.line) == ("t.yaml", 3)
    assert "libraries: core, team" in err.hint


def test_unknown_path_on_the_command_line_names_the_file(libs: Catalog) -> None:
    err = bad_input(lambda: libs.resolve("./missing.sh"))
    assert (err.file, "no such script file" in err.message) == ("missing.sh", True)


def test_folder_is_not_a_script(libs: Catalog, tmp_path: Path) -> None:
    err = bad_input(lambda: libs.resolve("core", tmp_path, file="t.yaml", line=4))
    assert "is a folder" in err.message
    assert (err.file, err.line) == ("t.yaml", 4)


def test_missing_library_folder(tmp_path: Path) -> None:
    err = bad_input(lambda: Library(tmp_path / "nope"))
    assert "library folder not found" in err.message
    assert "--library" in err.hint


def test_catalog_defaults(write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write("scripts/a.sh", block("RightScript Name: A", "Inputs: {}"))
    write("elsewhere/b.sh", block("RightScript Name: B", "Inputs: {}"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKSCRIPTS_LIBRARY", raising=False)
    assert [lib.name for lib in Catalog.from_specs(None).libraries] == ["scripts"]
    monkeypatch.setenv("STACKSCRIPTS_LIBRARY", str(tmp_path / "elsewhere"))
    assert Catalog.from_specs([]).resolve("B").name == "B"
    assert [lib.name for lib in Catalog.from_specs(["mine=scripts"]).libraries] == ["mine"]


def test_scripts_are_parsed_once(libs: Catalog) -> None:
    assert libs.resolve("Launch Apps") is libs.resolve("team/Launch Apps")


def test_sha256_covers_script_and_attachments(write) -> None:
    text = block("RightScript Name: A", "Inputs: {}", "Attachments:", "- app.conf")
    path = write("lib/a.sh", text)
    missing = load_script(path).sha256
    conf = write("lib/attachments/app.conf", "port=80\n")
    first = load_script(path).sha256
    assert first != missing
    conf.write_text("port=81\n")
    second = load_script(path).sha256
    assert second != first
    conf.write_text("port=80\n")
    assert load_script(path).sha256 == first
    path.write_text(text + "echo changed\n")
    assert load_script(path).sha256 != first
    assert content_hash("x", path.parent, ()) != content_hash("y", path.parent, ())


def test_a_large_generated_library(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for n in range(5000):
        folder = root / f"group{n % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"step-{n:04d}.sh").write_text(
            block(f"RightScript Name: Step {n}", "Inputs:", f"  IN_{n}:", "    Default: text:x"))
    catalog = Catalog([Library(root, "big")])
    script = catalog.resolve("Step 4321")
    assert script.path == root / "group21" / "step-4321.sh"
    assert [i.name for i in script.inputs] == ["IN_4321"]
    assert catalog.resolve("big/step-0007").name == "Step 7"
    assert len(catalog.libraries[0].files()) == 5000
