"""Every malformed part of a ServerTemplate is a BadInput naming its line and what to write."""

from __future__ import annotations

import pytest

from stackscripts.templates import load_template
from tests.unit.helpers import bad_input, line_of

IMAGE = "Name: T\nMultiCloudImages:\n- Name: Debian\n  Settings:\n"
SETTING = IMAGE + "  - Cloud: local\n    Image: debian\n"

CASES = [
    # (id, text, line fragment, message fragment, hint fragment)
    ("unknown top key", "Name: T\nIputs: {}\n", "Iputs", "unknown key 'Iputs'", "Allowed keys: Name"),
    ("missing name", "Description: x\n", "Description", "missing 'Name'", "Name: My Template"),
    ("name not text", "Name: 5\n", "Name", "'Name' must be text", "Quote"),
    ("description not text", "Name: T\nDescription: [a]\n", "Description", "must be text", "Quote"),
    ("a list", "- Name: T\n", "- Name", "must be a YAML mapping", "Name: My Template"),
    ("inputs a list", "Name: T\nInputs:\n- A: text:a\n", "Inputs", "'Inputs' must map input names", "Inputs:"),
    ("input number", "Name: T\nInputs:\n  A: 42\n", "A:", "YAML number", '"text:42"'),
    ("input list", "Name: T\nInputs:\n  A:\n  - text:a\n", "A:", "YAML list", "array:["),
    ("input empty", "Name: T\nInputs:\n  A:\n", "A:", "has no value", "blank"),
    ("input bad value", "Name: T\nInputs:\n  A: hello\n", "A:", "invalid value 'hello'", "text:hello"),
    ("input bad name", "Name: T\nInputs:\n  A-B: text:x\n", "A-B", "invalid input name", "letters, digits"),
    ("rightscripts a list", "Name: T\nRightScripts:\n- a.sh\n", "RightScripts", "must map phases", "Boot:"),
    ("unknown phase", "Name: T\nRightScripts:\n  Boot: []\n  Shutdown: []\n", "Shutdown",
     "unknown phase 'Shutdown'", "Boot, Operational and Decommission"),
    ("lowercase phase", "Name: T\nRightScripts:\n  boot: []\n", "boot", "unknown phase 'boot'", "Boot"),
    ("phase a string", "Name: T\nRightScripts:\n  Boot: a.sh\n", "Boot", "must be a list", "- ../scripts"),
    ("step number", "Name: T\nRightScripts:\n  Boot:\n  - 42\n", "- 42", "invalid script entry 42", "Script"),
    ("step empty", "Name: T\nRightScripts:\n  Boot:\n  -\n", "  -", "empty script entry", "remove the line"),
    ("step unknown key", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Timout: 5\n", "Timout",
     "unknown key 'Timout'", "Timeout"),
    ("step without script", "Name: T\nRightScripts:\n  Boot:\n  - Timeout: 5\n", "Timeout",
     "without Script or Name", "Script: ../scripts/x.sh"),
    ("timeout text", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Timeout: soon\n", "Timeout",
     "Timeout must be a number of seconds above 0 and at most 604,800 (a week), not 'soon'", "Timeout: 600"),
    ("timeout zero", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Timeout: 0\n", "Timeout",
     "not 0", "Timeout: 600"),
    ("timeout bool", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Timeout: true\n", "Timeout",
     "not True", "Timeout: 600"),
    ("retries negative", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Retries: -1\n", "Retries",
     "Retries must be a whole number from 0 to 10, not -1", "Retries: 2"),
    ("retries float", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Retries: 1.5\n", "Retries",
     "not 1.5", "Retries: 2"),
    ("stage a number", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Stage: 5\n", "Stage",
     "Stage must be a one-line label of 1 to 80 characters, not 5", "Stage: Install and launch the services"),
    ("stage blank", "Name: T\nRightScripts:\n  Boot:\n  - Script: a.sh\n    Stage: ' '\n", "Stage",
     "Stage must be a one-line label", "Stage: Install"),
    ("images a map", "Name: T\nMultiCloudImages:\n  Name: D\n", "MultiCloudImages", "must be a list", "- Name:"),
    ("image without name", "Name: T\nMultiCloudImages:\n- Description: D\n", "Description", "needs a Name",
     "- Name: Debian 12"),
    ("image unknown key", "Name: T\nMultiCloudImages:\n- Name: D\n  Setings: []\n", "Setings",
     "unknown key 'Setings'", "Settings"),
    ("settings a map", IMAGE + "    Cloud: local\n", "Settings", "'Settings' must be a list", "- Cloud: local"),
    ("setting a string", IMAGE + "  - local\n", "- local", "must be a mapping", "- Cloud: local"),
    ("setting without cloud", IMAGE + "  - Image: debian\n", "- Image", "without Cloud", "Cloud: local"),
    ("setting without image", IMAGE + "  - Cloud: local\n", "- Cloud", "without Image", "Image:"),
    ("setting unknown key", SETTING + "    Region: x\n", "Region", "unknown key 'Region'", "Instance Type"),
    ("instance type number", SETTING + "    Instance Type: 5\n", "Instance Type", "must be text, not 5",
     "quote it"),
    ("ssh user list", SETTING + "    SSH User: [a]\n", "SSH User", "SSH User must be text", "single value"),
    ("volumes a string", SETTING + "    Volumes: data\n", "Volumes", "'Volumes' must be a list", "Size: 10"),
    ("volume a string", SETTING + "    Volumes:\n    - data\n", "- data", "a volume must be a mapping", "Size"),
    ("volume without name", SETTING + "    Volumes:\n    - Size: 10\n", "Size", "needs a Name", "Name: data"),
    ("volume bad size", SETTING + "    Volumes:\n    - Name: data\n      Size: big\n", "Size: big",
     "Size must be a whole number of GB > 0, not 'big'", "Size: 10"),
    ("volume zero size", SETTING + "    Volumes:\n    - {Name: data, Size: 0}\n", "Size: 0", "not 0", "Size: 10"),
    ("volume unknown key", SETTING + "    Volumes:\n    - {Name: d, Size: 1, Type: ssd}\n", "Type: ssd",
     "unknown key 'Type'", "Ephemeral"),
    ("volume device number", SETTING + "    Volumes:\n    - {Name: d, Size: 1, Device: 3}\n", "Device",
     "Device must be a device path", "/dev/xvdb"),
    ("volume ephemeral text", SETTING + "    Volumes:\n    - Name: d\n      Size: 1\n      Ephemeral: maybe\n",
     "Ephemeral", "Ephemeral must be true or false", "Ephemeral: true"),
    ("alerts a string", "Name: T\nAlerts: nope\n", "Alerts", "'Alerts' must be a list", "Alerts: []"),
    ("alerts of strings", "Name: T\nAlerts:\n- cpu\n", "Alerts", "'Alerts' must be a list", "Alerts: []"),
]


@pytest.mark.parametrize("text, at, message, hint", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_template(write, text: str, at: str, message: str, hint: str) -> None:
    path = write("t.yaml", text)
    err = bad_input(lambda: load_template(path))
    assert err.file == str(path)
    assert message in err.message
    assert hint in (err.hint or "")
    assert err.line == line_of(text, at), str(err)


YAML_CASES = [
    ("tabs", "Name: T\nRightScripts:\n  Boot:\n\t- a.sh\n", 4, "tabs"),
    ("bad indentation", "Name: T\nRightScripts:\n  Boot: []\n Operational: []\n", 4, "indentation"),
    ("unclosed bracket", "Name: T\nRightScripts:\n  Boot: [a.sh\nMultiCloudImages: []\n", 4, "opened at line 3"),
    ("unclosed brace", "Name: T\nInputs: {A: text:a\n", 3, "'{' opened at line 2"),
    ("unclosed quote", "Name: 'T\n", 1, "quote opened at line 1"),
    ("duplicate key", "Name: T\nInputs:\n  A: text:a\n  A: text:b\n", 4, "Keep one"),
    ("colon in value", "Name: T\nDescription: Note: x\n", 2, "must be quoted"),
    ("empty text", "Name: T\nInputs:\n  A: text:\n", 3, "blank"),
    ("alias", "Name: *x\n", 1, "alias"),
]


@pytest.mark.parametrize("text, line, hint", [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES])
def test_yaml_errors(write, text: str, line: int, hint: str) -> None:
    path = write("t.yaml", text)
    err = bad_input(lambda: load_template(path))
    assert (err.file, err.line) == (str(path), line), str(err)
    assert hint in err.hint


def test_file_errors(write, tmp_path) -> None:
    assert "no such template file" in bad_input(lambda: load_template(tmp_path / "nope.yaml")).message
    assert "is a folder" in bad_input(lambda: load_template(tmp_path)).message
    empty = write("empty.yaml", "# only a comment\n")
    err = bad_input(lambda: load_template(empty))
    assert ("the template is empty" in err.message, err.line) == (True, 1)
    latin = write("latin.yaml", raw=b"Name: T\nDescription: caf\xe9\n")
    err = bad_input(lambda: load_template(latin))
    assert ("not UTF-8" in err.message, err.line) == (True, 2)
