"""Secret inputs in a cloud-init boot: fetched on the instance, embedded on request, or refused.

User-data is readable by anyone who can reach the instance's metadata service, and cloud-init keeps
its own copies of it under /var/lib/cloud for the instance's life. So a secret is either fetched by
the instance at boot (`cred:` values, from SSM Parameter Store or Secrets Manager through the
instance's role: nothing secret in the user-data), or embedded only when asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import BadInput
from ..model import Plan, PlannedStep, ResolvedInput

DEFAULT_PREFIX = "/stackscripts/"
# --creds-on-instance SOURCE -> (the prefix variable shared with the controller's backend, a name for people)
SOURCES = {
    "ssm": ("STACKSCRIPTS_SSM_PREFIX", "SSM Parameter Store"),
    "secretsmanager": ("STACKSCRIPTS_SECRETS_PREFIX", "Secrets Manager"),
}
CLOUD_INIT_COPIES = "/var/lib/cloud/instance/ (user-data.txt, user-data.txt.i, obj.pkl)"


@dataclass(frozen=True)
class InstanceCreds:
    """Where the instance looks `cred:NAME` up at boot: SOURCE's entry PREFIX + NAME."""

    source: str  # ssm | secretsmanager
    prefix: str = DEFAULT_PREFIX

    @classmethod
    def named(cls, source: str, prefix: str | None = None) -> InstanceCreds:
        """The source by name; the prefix defaults to the controller's (STACKSCRIPTS_SSM_PREFIX...)."""
        if source not in SOURCES:
            raise BadInput(f"unknown credential source {source!r} for the instance",
                           hint="Use ssm (SSM Parameter Store) or secretsmanager (Secrets Manager).")
        return cls(source, os.environ.get(SOURCES[source][0], DEFAULT_PREFIX) if prefix is None else prefix)

    @property
    def label(self) -> str:
        return SOURCES[self.source][1]


@dataclass(frozen=True)
class SecretPolicy:
    """How secret inputs travel: include_secrets embeds them; on_instance fetches cred: values at boot."""

    include_secrets: bool = False
    on_instance: InstanceCreds | None = None

    def fetched(self, step: PlannedStep) -> list[tuple[str, str]]:
        """(input name, credential name) of each input the instance fetches itself."""
        if self.on_instance is None:
            return []
        return [(i.name, i.value.text) for i in step.inputs if i.value is not None and i.value.kind == "cred"]

    def embedded(self, step: PlannedStep) -> tuple[ResolvedInput, ...]:
        """The inputs whose values go into the user-data."""
        fetched = {name for name, _ in self.fetched(step)}
        return tuple(i for i in step.inputs
                     if i.name not in fetched and (self.include_secrets or not i.secret))

    def secret_names(self, step: PlannedStep) -> list[str]:
        """Inputs whose values the runner masks in the console output."""
        return [i.name for i in step.inputs if i.secret and i.value is not None and i.value.kind != "ignore"]

    def check(self, plan: Plan) -> None:
        """Refuse a secret input that would be dropped silently (neither fetched nor embedded)."""
        if self.include_secrets:
            return
        for step in plan.steps:
            fetched = {name for name, _ in self.fetched(step)}
            for item in step.inputs:
                if not item.secret or item.value is None or item.value.kind == "ignore" or item.name in fetched:
                    continue
                raise BadInput(
                    f"step {step.name!r} needs secret input {item.name} ({item.value.unparse()}), and user-data can "
                    "be read by anyone with access to the instance's metadata",
                    file=str(plan.template.path), hint=self._hint(item))

    def _hint(self, item: ResolvedInput) -> str:
        embed = ("--include-secrets embeds it anyway (it then also stays in cloud-init's copies under "
                 f"{CLOUD_INIT_COPIES} for the instance's life); or override it with -i {item.name}=ignore.")
        if self.on_instance is not None:
            return (f"--creds-on-instance fetches only plain cred:NAME values, and {item.name} is "
                    f"{'an array' if item.value and item.value.kind == 'array' else 'not a cred: value'}. " + embed)
        return ("Pass --creds-on-instance ssm (or secretsmanager): the instance fetches cred: values at boot "
                "through its role, so no secret is in the user-data. " + embed)

    def notes(self, plan: Plan) -> list[str]:
        """What a user must know about the secrets of this user-data."""
        notes = []
        embedded = sorted({i.name for s in plan.steps for i in self.embedded(s) if i.secret and i.value is not None
                           and i.value.kind != "ignore"})
        if embedded:
            notes.append(
                f"the user-data holds secret values ({', '.join(embedded)}): anyone who can read the instance's "
                f"metadata can read them, and cloud-init keeps copies under {CLOUD_INIT_COPIES} for the instance's "
                "life. With --creds-on-instance ssm (or secretsmanager) the instance fetches cred: values at boot "
                "through its role instead, and no secret is in the user-data.")
        fetched = sorted({cred for s in plan.steps for _, cred in self.fetched(s)})
        if fetched and self.on_instance is not None:
            src = self.on_instance
            action = "ssm:GetParameter" if src.source == "ssm" else "secretsmanager:GetSecretValue"
            notes.append(
                f"the instance fetches {', '.join('cred:' + c for c in fetched)} at boot from {src.label} "
                f"({src.prefix}NAME) with the aws CLI: its image needs the aws CLI, and its role needs {action} "
                f"on those names (and kms:Decrypt for a customer-managed key).")
        return notes
