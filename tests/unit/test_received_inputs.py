"""How a step's inputs are recorded: references as written, and beside each env: reference the value the step
received, masked where it is secret."""

from __future__ import annotations

from stackscripts.inputs.materialize import masked
from stackscripts.inputs.values import parse_value
from stackscripts.masking import SecretSet, mask_text
from stackscripts.model import ResolvedInput


def given(name: str, raw: str) -> ResolvedInput:
    return ResolvedInput(name, parse_value(raw, name=name), "deployment")


def test_an_env_reference_is_recorded_with_the_value_it_gave() -> None:
    inputs = [given("DB_HOST", "env:db:PRIVATE_IP"), given("PORT", "text:5432"), given("PEERS", "array:[\"env:a:HOST\"]")]
    shown = masked(inputs, received={"DB_HOST": "10.0.0.5", "PORT": "5432", "PEERS": "10.0.0.6"})
    assert shown == {"DB_HOST": "env:db:PRIVATE_IP -> 10.0.0.5", "PORT": "text:5432",
                     "PEERS": 'array:["env:a:HOST"] -> 10.0.0.6'}
    assert masked(inputs) == {"DB_HOST": "env:db:PRIVATE_IP", "PORT": "text:5432", "PEERS": 'array:["env:a:HOST"]'}


def test_a_secret_received_through_env_is_masked_beside_its_reference() -> None:
    secrets = SecretSet(["s3cret-Password"])
    shown = masked([given("DB_PASS", "env:db:DB_PASS"), given("URL", "env:db:URL")],
                   received={"DB_PASS": "s3cret-Password", "URL": "postgres://app:s3cret-Password@db/app"},
                   hide=lambda text: mask_text(text, secrets))
    assert shown == {"DB_PASS": "env:db:DB_PASS -> ********", "URL": "env:db:URL -> postgres://app:********@db/app"}
    assert "s3cret" not in repr(shown)


def test_mask_text_masks_the_longest_secret_first() -> None:
    assert mask_text("abcd abcdef", ["abcd", "abcdef"]) == "******** ********"
    assert mask_text("nothing here", []) == "nothing here"
