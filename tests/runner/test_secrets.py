"""A cred: value never reaches the audit store, the terminal, or the server's disk after the run."""

from __future__ import annotations

import glob
import secrets
from pathlib import Path

import pytest

from stackscripts.masking import MASK
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step, files_containing
from tests.support.cli import run_cli

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

    done = run_cli("boot", web, "-t", str(template), "--db", str(bench.db), env=env)
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

    shown = run_cli("runs", "show", run.id, "--db", str(bench.db), "--json")
    logged = run_cli("runs", "log", run.id, "2", "--db", str(bench.db))
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


def joined(pieces: list[tuple[str, bytes]], stream: str | None = None) -> bytes:
    return b"".join(data for name, data in pieces if stream is None or name == stream)


@pytest.mark.parametrize("secret", ["hunter22", "pässwörd-ünïcode", "abcd"])
def test_masker_catches_a_secret_cut_anywhere(secret: str) -> None:
    from stackscripts.masking import StreamMasker

    data = f"before {secret} middle {secret}\nafter".encode()
    for cut in range(len(data) + 1):
        for second_cut in (cut, min(len(data), cut + 3)):
            masker = StreamMasker([secret])
            pieces = [*masker.feed("stdout", data[:cut]), *masker.feed("stdout", data[cut:second_cut]),
                      *masker.feed("stdout", data[second_cut:]), *masker.flush()]
            assert joined(pieces) == f"before {MASK} middle {MASK}\nafter".encode(), (cut, second_cut)


def test_masker_catches_a_secret_split_across_stdout_and_stderr() -> None:
    """Half on stdout, half on stderr: the terminal would show it whole, so both halves are masked."""
    from stackscripts.masking import StreamMasker

    secret = b"hunter22-xyz"
    for cut in range(1, len(secret)):
        masker = StreamMasker([secret.decode()])
        pieces = [*masker.feed("stdout", b"say " + secret[:cut]), *masker.feed("stderr", secret[cut:] + b" done\n"),
                  *masker.flush()]
        everything = joined(pieces)
        assert secret[:4] not in everything and secret[-4:] not in everything, (cut, pieces)
        assert joined(pieces, "stdout").startswith(b"say ") and joined(pieces, "stderr").endswith(b" done\n")
    # interleaved with the other stream's output in between: each stream alone still spells it
    masker = StreamMasker([secret.decode()])
    pieces = [*masker.feed("stdout", secret[:5]), *masker.feed("stderr", b"noise\n"),
              *masker.feed("stdout", secret[5:] + b"\n"), *masker.flush()]
    assert secret not in joined(pieces, "stdout") and joined(pieces, "stderr") == b"noise\n"
    assert joined(pieces, "stdout") == MASK.encode() + MASK.encode() + b"\n"


def test_masker_is_byte_exact_and_fast_on_large_output() -> None:
    from stackscripts.masking import StreamMasker

    masker = StreamMasker(["hunter22"])
    blob = bytes(range(256)) * 4096  # 1 MiB, invalid UTF-8 included
    out = b""
    for i in range(0, len(blob), 65536):
        out += joined(masker.feed("stdout", blob[i:i + 65536]))
    assert out + joined(masker.flush()) == blob


def test_masker_releases_text_that_cannot_start_a_secret() -> None:
    from stackscripts.masking import StreamMasker

    masker = StreamMasker(["hunter22"])
    assert joined(masker.feed("stdout", b"last line before a long sleep\n")) == b"last line before a long sleep\n"
    assert joined(masker.feed("stdout", b"user hun")) == b"user "  # "hun" may be the start of the secret
    assert joined(masker.feed("stdout", b"ter22!\n")) == f"{MASK}!\n".encode()
    assert joined(masker.feed("stdout", b"hunt")) == b"" and joined(masker.flush()) == b"hunt"


def test_secrets_added_later_are_masked_too() -> None:
    """One SecretSet per server: a run that starts later adds its secrets to every masker of that server."""
    from stackscripts.masking import SecretSet, StreamMasker

    held = SecretSet(["first-secret"])
    masker = StreamMasker(held)
    held.add(["second-secret"])
    assert joined([*masker.feed("stdout", b"x second-secret y"), *masker.flush()]) == f"x {MASK} y".encode()
    held.remove(["second-secret"])
    assert joined([*masker.feed("stdout", b"second-secret"), *masker.flush()]) == b"second-secret"
