"""Scaffold: infer inputs, defaults and attachments from the body; keep what is already declared."""

from __future__ import annotations

import shutil
from pathlib import Path

from stackscripts.catalog import metadata
from stackscripts.catalog.scaffold import scaffold
from stackscripts.catalog.scripts import load_script
from tests.unit.helpers import GOLDEN, block


def inputs_of(text: str) -> dict:
    meta, _ = metadata.parse(text, "x")
    return {i.name: i for i in meta.inputs}


def test_scaffold_golden(tmp_path: Path) -> None:
    source = tmp_path / "backup-db.sh"
    shutil.copy(GOLDEN / "scaffold" / "backup-db.sh", source)
    result = scaffold(source)
    assert result.changed
    assert result.text == (GOLDEN / "scaffold" / "backup-db.expected.sh").read_text("utf-8")
    assert result.added_inputs == ("BACKUP_BUCKET", "RETENTION_DAYS", "EXTRA_FLAGS", "DB_NAME")
    assert result.added_attachments == ("pgpass", "backup.cron")
    assert source.read_text("utf-8") != result.text  # scaffold() itself never writes


def test_scaffold_is_idempotent(write) -> None:
    path = write("s/backup-db.sh", (GOLDEN / "scaffold" / "backup-db.sh").read_text("utf-8"))
    path.write_text(scaffold(path).text, "utf-8")
    again = scaffold(path)
    assert again.changed is False
    assert again.text == path.read_text("utf-8")


def test_upper_vars_are_required_inputs(write) -> None:
    path = write("s/deploy-app.sh", '#!/bin/bash\necho "$APP_NAME" ${APP_VERSION}\n')
    result = scaffold(path)
    specs = inputs_of(result.text)
    assert list(specs) == ["APP_NAME", "APP_VERSION"]
    assert all(s.required and s.default is None for s in specs.values())
    assert "# RightScript Name: Deploy App" in result.text
    assert result.text.startswith("#!/bin/bash\n# ---\n")


def test_defaults_from_parameter_expansion(write) -> None:
    path = write("s/x.sh", 'echo "${A:=alpha}" "${B:-beta}" "${C:-}" "${D-delta}"\n')
    specs = inputs_of(scaffold(path).text)
    assert (specs["A"].default, specs["A"].required) == ("text:alpha", False)
    assert (specs["B"].default, specs["B"].required) == ("text:beta", False)
    assert (specs["C"].default, specs["C"].required) == ("blank", False)
    assert specs["D"].default == "text:delta"


def test_assigned_and_runtime_vars_are_not_inputs(write) -> None:
    path = write("s/x.sh", """\
        #!/bin/bash
        WORK=/tmp/w
        export OUT=/tmp/o
        if true; then
          NESTED=1
        fi
        for ITEM in a b; do echo "$ITEM"; done
        read -r ANSWER < /dev/null
        local_fn() { local LOCALV=1; echo "$LOCALV"; }
        echo "$WORK $OUT $NESTED $ANSWER $HOME $PATH $RS_ATTACH_DIR $RS_PACKAGES $RANDOM $lowercase"
        echo "$REAL_INPUT"
        """)
    assert list(inputs_of(scaffold(path).text)) == ["REAL_INPUT"]


def test_attachments_from_rs_attach_dir(write) -> None:
    path = write("s/x.sh", 'cp "$RS_ATTACH_DIR/app.conf" /etc/\ncat ${RS_ATTACH_DIR}/motd.txt\n')
    result = scaffold(path)
    assert result.added_attachments == ("app.conf", "motd.txt")
    meta, _ = metadata.parse(result.text, "x")
    assert meta.attachments == ("app.conf", "motd.txt")


def test_existing_entries_are_kept(write) -> None:
    text = block("RightScript Name: Keep Me", "Description: Hand written.", "Inputs:", "  KNOWN:",
                 "    Category: Mine", "    Description: Written by hand.", "    Input Type: single",
                 "    Required: false", "    Advanced: true", "    Default: text:k", "Attachments:",
                 "- templ.conf.j2", body='echo "$KNOWN $NEW_ONE"\ncat "$RS_ATTACH_DIR/templ.conf" "$RS_ATTACH_DIR/new.txt"\n')
    path = write("s/keep.sh", text)
    result = scaffold(path)
    assert result.added_inputs == ("NEW_ONE",)
    assert result.added_attachments == ("new.txt",)
    meta, _ = metadata.parse(result.text, "x")
    assert meta.name == "Keep Me" and meta.description == "Hand written."
    known, new = meta.inputs
    assert (known.name, known.category, known.description, known.advanced, known.default) == (
        "KNOWN", "Mine", "Written by hand.", True, "text:k")
    assert (new.name, new.required) == ("NEW_ONE", True)
    assert meta.attachments == ("templ.conf.j2", "new.txt")
    assert result.text.endswith('echo "$KNOWN $NEW_ONE"\ncat "$RS_ATTACH_DIR/templ.conf" "$RS_ATTACH_DIR/new.txt"\n')


def test_marker_of_the_existing_block_is_kept(write) -> None:
    path = write("s/x.js", block("RightScript Name: X", "Inputs: {}", marker="//", shebang="#!/usr/bin/env node",
                                 body="console.log(process.env.PORT_NUMBER);\n"))
    result = scaffold(path)
    assert result.added_inputs == ("PORT_NUMBER",)
    assert "// Inputs:\n//   PORT_NUMBER:\n" in result.text


def test_other_languages(write) -> None:
    py = write("s/p.py", '#!/usr/bin/env python3\nimport os\nprint(os.environ["PY_IN"], os.getenv("PY_OPT"))\n')
    assert scaffold(py).added_inputs == ("PY_IN", "PY_OPT")
    rb = write("s/r.rb", "#!/usr/bin/env ruby\nputs ENV['RB_IN']\n")
    assert scaffold(rb).added_inputs == ("RB_IN",)


def test_scaffolded_file_loads(write) -> None:
    path = write("s/x.sh", 'echo "$NEEDED" "${OPT:-x}"\n')
    path.write_text(scaffold(path).text, "utf-8")
    script = load_script(path)
    assert [(i.name, i.required) for i in script.inputs] == [("NEEDED", True), ("OPT", False)]
