"""The runtime contract over SSH: a step runs with umask 022, while its run directory and env file are private.

Before, steps inherited the transport's umask 077: a file a step wrote (an nginx site) was 0600 and the web
server answered 403, while the same script under cloud-init wrote 0644.
"""

from __future__ import annotations

import pytest

from tests.runner.fixtures import Bench
from tests.runner.helpers import Step

pytestmark = pytest.mark.timeout(120)

WRITES = """\
d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
umask > "$d/umask"
echo "<h1>site</h1>" > "$d/index.html"
mkdir "$d/site.d"
run_dir=${RS_ATTACH_DIR%/attachments}
stat -c %a "$run_dir" "$RS_ATTACH_DIR" "$PWD" > "$d/private-modes"
[ -e "$run_dir/env" ] && echo present > "$d/env" || echo gone > "$d/env"
"""


def test_a_step_runs_with_umask_022_in_a_private_run_directory(bench: Bench) -> None:
    (web,) = bench.add(1)
    bench.controller.boot(web, bench.template([Step("Writes", WRITES, {"OUT_DIR": None})]))
    out = bench.out / web
    assert (out / "umask").read_text() == "0022\n"
    assert (out / "index.html").stat().st_mode & 0o777 == 0o644
    assert (out / "site.d").stat().st_mode & 0o777 == 0o755
    assert (out / "private-modes").read_text().split() == ["700", "700", "700"]  # run dir, attachments, work
    assert (out / "env").read_text() == "gone\n"  # the env file is read and removed before the script starts
