"""Every malformed input through the REAL CLI: exit 2, one paragraph naming FILE:LINE with a hint, no
traceback, nothing on stdout; with --json exactly one envelope naming the file and line."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.badinput.corpus import Case, Run, cases_from_headers, corpus_files, header, run_cli

# Cases that cannot carry a header (an empty file, a path that does not exist, a folder) ...
FILE_CASES = [
    Case("empty script", "scripts show", "scripts/empty.sh", 1, "the script is empty", "scaffold"),
    Case("empty template", "templates validate", "templates/empty.yaml", 1, "the template is empty",
         "Name: My Template"),
    Case("missing script", "scripts show", "scripts/nope.sh", None, "no such script file", "Check the path"),
    Case("missing script to lint", "scripts lint", "scripts/nope.sh", None, "no such file or folder",
         "Check the path"),
    Case("missing template", "templates validate", "templates/nope.yaml", None, "no such template file",
         "Check the path"),
    Case("missing template to render", "templates render --cloud-init", "templates/nope.yaml", None,
         "no such template file", "Check the path"),
    Case("folder as script", "scripts show", "scripts", None, "is a folder, not a script", "Name a script file"),
    Case("folder as template", "templates validate", "templates", None, "is a folder, not a template",
         "Name a .yaml file"),
]

# ... and input values given on the command line (-i), which have no file: the message names -i instead.
OK = "good/ok.yaml"
VALUE_CASES = [Case(f"-i {' '.join(extra[1::2])} ({command.split()[1]})", command, OK, None, expect, hint,
                    extra=extra, names_file=False) for command, extra, expect, hint in [
    ("templates inputs", ("-i", "GREETING"), "-i 'GREETING': expected NAME=VALUE", "-i DOCKER_PACKAGE=text:"),
    ("templates inputs", ("-i", "=text:hi"), "expected NAME=VALUE", "-i DOCKER_PACKAGE=text:"),
    ("templates inputs", ("-i", "1GREETING=text:hi"), "invalid input name '1GREETING'", "letters, digits"),
    ("templates inputs", ("-i", "GREETING=hello"), "-i: input GREETING: invalid value 'hello'", "text:hello"),
    ("templates inputs", ("-i", "GREETING=text:"), "-i: input GREETING: 'text:' with nothing after it", "blank"),
    ("templates inputs", ("-i", "GREETING=text:howdy"), "'text:howdy' (set by -i) is not one of its Possible",
     "text:hello, text:hi"),
    ("templates inputs", ("-i", "GREETNG=text:hi"), "command line sets input GREETNG", "Did you mean GREETING?"),
    ("templates inputs", ("-i", "DB_PASSWORD=env:db1"), "invalid env reference 'env:db1'", "env:SERVER:NAME"),
    ("templates inputs", ("-i", "DB_PASSWORD=cred:"), "invalid credential name ''", "cred:NAME"),
    ("templates inputs", ("-i", "NAMES=array:[1]"), "array item 1 is not a string", "Quote every item"),
    ("templates validate", ("-i", "NAMES=array:["), "-i: input NAMES: invalid array '['", "JSON list"),
    ("templates validate", ("-i", 'NAMES=array:["text:alice","text:carol"]'), "'text:carol' (set by -i)",
     "text:alice, text:bob"),
    ("templates validate", ("-i", "NAMES=text:alice"), "input NAMES is an array", 'array:["text:alice"]'),
    ("templates validate", ("-i", "GREETING=ignore"), "required input GREETING is set to ignore by -i",
     "-i GREETING=text:VALUE"),
    ("templates validate", ("-i", "GREETING=text:hi", "-i", "GREETING=blank"),
     "required input GREETING is set to blank by -i", "-i GREETING=text:VALUE"),
    ("templates render --cloud-init", ("-i", "GREETING=text:nope"), "'text:nope' (set by -i)", "text:hello"),
    ("templates render --cloud-init", ("-i", 'NAMES=array:["ignore"]'), "array item 'ignore' is not allowed",
     "text:, cred: or env:"),
]]

CASES = cases_from_headers() + FILE_CASES + VALUE_CASES
_LOCATION = re.compile(r"^stackscripts: error: (?P<file>.+?):(?:(?P<line>\d+):)? ")


# The corpus's size, exactly: a case that disappears (a header lost, a file deleted) fails here; a case added
# updates these numbers.
HEADER_CASES, NAMING_A_FILE = 100, 108


def test_corpus_size_is_exact_and_every_file_is_a_case() -> None:
    targets = {c.target for c in CASES}
    uncovered = [p.name for p in corpus_files() if p.relative_to(p.parents[1]).as_posix() not in targets]
    assert uncovered == []
    assert len({c.id for c in CASES}) == len(CASES)
    assert (len(cases_from_headers()), len(FILE_CASES), len(VALUE_CASES)) == (HEADER_CASES, 8, 17)
    assert len(CASES) == HEADER_CASES + 8 + 17 == 125
    assert len([c for c in CASES if c.names_file]) == NAMING_A_FILE


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, bool], Future[Run]]]:
    """Start the selected cases' CLI runs in parallel, text and --json; each test waits for its own."""
    wanted = {item.callspec.params["case"].id for item in request.session.items
              if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)}
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2))) as pool:
        yield {(c.id, as_json): pool.submit(run_cli, c.argv(as_json)) for c in CASES if c.id in wanted
               for as_json in (False, True)}


def check_location(case: Case, file: str | None, line: int | None) -> None:
    expected = case.expected_file
    assert (os.path.normpath(file) if file else None) == expected, f"names file {file!r}, expected {expected!r}"
    assert line == case.line, f"names line {line}, expected {case.line}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_message(case: Case, runs: dict) -> None:
    run: Run = runs[(case.id, False)].result()
    assert "Traceback" not in run.stderr + run.stdout
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert run.stderr.endswith("\n") and run.stderr.count("\n") == 1, f"not one paragraph: {run.stderr!r}"
    assert run.stderr.startswith("stackscripts: error: ")
    match = _LOCATION.match(run.stderr)
    if case.names_file:
        assert match, run.stderr
        check_location(case, match["file"], int(match["line"]) if match["line"] else None)
    message = run.stderr.strip()
    assert case.expect in message
    assert case.hint in message[message.index(case.expect) + len(case.expect):], "the hint must follow the message"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_json_envelope(case: Case, runs: dict) -> None:
    run: Run = runs[(case.id, True)].result()
    assert "Traceback" not in run.stderr + run.stdout
    assert run.returncode == 2
    assert run.stderr == ""
    doc = json.loads(run.stdout)  # the whole of stdout is one JSON document
    assert run.stdout.count('"api_version"') == 1
    assert set(doc) == {"api_version", "command", "ok", "data", "error"}
    assert (doc["api_version"], doc["ok"], doc["data"]) == ("stackscripts/v1", False, None)
    assert doc["command"] == " ".join(case.command.split()[:2])
    error = doc["error"]
    assert error["exit_code"] == 2
    assert case.expect in error["message"] and case.hint in error["message"]
    if case.names_file:
        check_location(case, error.get("file"), error.get("line"))
    else:
        assert "file" not in error and "line" not in error


def test_headers_parse_for_non_utf8_files() -> None:
    keys = header(next(p for p in corpus_files() if p.name == "not_utf8.sh"))
    assert keys["expect"] == "the script is not UTF-8 text"
