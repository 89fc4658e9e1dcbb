"""A cred: value never reaches the audit store, the terminal, or the server's disk after the run."""

from __future__ import annotations

import glob
import secrets
from pathlib import Path

import pytest

from stackscripts.masking import MASK
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, cli, files_containing

pytestmark = pytest.mark.timeout(120)

LEAKY = """\
echo "the secret is $DB_PASSWORD"
echo "stderr has it too: $DB_PASSWORD" >&2
printf '%s\\n' "$DB_PASSWORD" > secret-in-workdir.txt
printf '%s\\n' "$DB_PASSWORD" > "$RS_ATTACH_DIR/../secret-in-bundle.txt"
chmod 600 secret-in-workdir.txt
echo "workdir: $PWD"
echo "bundle: $(cd "$RS_ATTACH_DIR/.." && pwd)"
"""

SPLIT = """\
half=$(( ${#DB_PASSWORD} / 2 ))
printf 'split: %s' "${DB_PASSWORD:0:$half}"
sleep 0.3
printf '%s :end\\n' "${DB_PASSWORD:$half}"
printf 'err split: %s' "${DB_PASSWORD:0:$half}" >&2
sleep 0.3
printf '%s :end\\n' "${DB_PASSWORD:$half}" >&2
"""


def secret_steps() -> list[Step]:
    inputs = {"DB_PASSWORD": None}
    return [Step("Leaky", LEAKY, inputs), Step("Split", SPLIT, inputs)]


def test_cred_value_is_masked_everywhere(bench: Bench) -> None:
    (web,) = bench.add(1)
    secret = f"s3cr3t-{secrets.token_hex(12)}"
    template = bench.template(secret_steps(), inputs={"DB_PASSWORD": "cred:DB_PASSWORD"})
    bench.controller.close()
    env = {"STACKSCRIPTS_CRED_DB_PASSWORD": secret}

    done = cli("boot", web, "-t", str(template), "--db", str(bench.db), env=env)
    assert done.returncode == 0, done.stderr
    terminal = done.stdout + done.stderr
    assert secret not in terminal
    assert f"the secret is {MASK}" in terminal and f"split: {MASK} :end" in terminal

    controller = bench.reopen()
    (run,) = controller.runs(web)
    record = controller.get_run(run.id)
    leaky, split = record.steps
    assert leaky.stdout.startswith(f"the secret is {MASK}\n")
    assert leaky.stderr == f"stderr has it too: {MASK}\n"
    assert split.stdout == f"split: {MASK} :end\n" and split.stderr == f"err split: {MASK} :end\n"
    assert record.inputs["DB_PASSWORD"] == "cred:DB_PASSWORD"
    assert leaky.inputs == {"DB_PASSWORD": "cred:DB_PASSWORD"}
    assert controller.store.get_server(web).inputs["DB_PASSWORD"] == "cred:DB_PASSWORD"

    shown = cli("runs", "show", run.id, "--db", str(bench.db), "--json")
    logged = cli("runs", "log", run.id, "2", "--db", str(bench.db))
    assert shown.returncode == 0 and logged.returncode == 0
    assert secret not in shown.stdout + logged.stdout and MASK in logged.stdout

    controller.close()
    for path in [bench.db, *map(Path, glob.glob(f"{bench.db}-*"))]:
        data = path.read_bytes()
        assert secret.encode() not in data, f"the secret is in {path}"
        assert secret[: len(secret) // 2].encode() not in data, f"half the secret is in {path}"

    workdir = leaky.stdout.split("workdir: ")[1].split("\n")[0]
    bundle = leaky.stdout.split("bundle: ")[1].split("\n")[0]
    assert Path(workdir).name == "work" and not Path(workdir).exists()
    assert bundle.startswith("/tmp/stackscripts.") and not Path(bundle).exists()
    assert files_containing(secret) == []  # anywhere under /tmp: bundles, env files, work dirs, logs


def test_a_cred_read_through_env_from_another_server_is_masked(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    pool_a, pool_b = bench.pool.take(2)
    a, b = bench.add_one("a", pool_a), bench.add_one("b", pool_b)
    secret = f"shared-{secrets.token_hex(12)}"
    monkeypatch.setenv("STACKSCRIPTS_CRED_SHARED_TOKEN", secret)
    echo = Step("Echo", 'echo "token=$TOKEN"\n', {"TOKEN": "text:none"})
    template = bench.template([echo])
    bench.controller.boot(a, template, ["TOKEN=cred:SHARED_TOKEN"])
    result = bench.controller.boot(b, template, ["TOKEN=env:a:TOKEN"])

    assert result.steps[0].stdout == f"token={MASK}\n"
    assert bench.controller.get_run(result.run_id).steps[0].stdout == f"token={MASK}\n"


@pytest.mark.parametrize("secret", ["hunter22", "pässwörd-ünïcode", "ab"])
def test_masker_catches_a_secret_cut_anywhere(secret: str) -> None:
    from stackscripts.masking import Masker

    data = f"before {secret} middle {secret}\nafter".encode()
    for cut in range(len(data) + 1):
        for second_cut in (cut, min(len(data), cut + 3)):
            masker = Masker([secret])
            text = masker.feed(data[:cut]) + masker.feed(data[cut:second_cut]) + masker.feed(data[second_cut:])
            text += masker.flush()
            assert text == f"before {MASK} middle {MASK}\nafter", (cut, second_cut)


def test_masker_releases_text_that_cannot_start_a_secret() -> None:
    from stackscripts.masking import Masker

    masker = Masker(["hunter22"])
    assert masker.feed(b"last line before a long sleep\n") == "last line before a long sleep\n"
    assert masker.feed(b"user hun") == "user "  # "hun" may be the start of the secret
    assert masker.feed(b"ter22!\n") == f"{MASK}!\n"
    assert masker.feed(b"hunt") == "" and masker.flush() == "hunt"
