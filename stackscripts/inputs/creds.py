"""Credential backends for cred: inputs and server keys: environment, a 0600 file, AWS SSM and Secrets Manager.

Each backend gets a secret by name; those that can also store one (`put`: file, ssm, secretsmanager) are where
`launch` keeps the SSH keys it makes when the team names a key backend (transport/keys.py).
"""

from __future__ import annotations

import abc
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..registry import Registry


class CredentialBackend(abc.ABC):
    name = ""

    @abc.abstractmethod
    def get(self, cred: str) -> str | None:
        """The secret, or None when this backend does not have it."""

    def where(self, cred: str) -> str:
        return self.name

    def put(self, cred: str, value: str, *, replace: bool = True) -> bool:
        """Store a secret under `cred`. With replace=False an existing one is kept and the answer is False."""
        raise BadInput(f"the {self.name} credential backend cannot store credentials (needed for {cred})",
                       hint="Use a backend that can: file, ssm or secretsmanager.")


credential_backends: Registry[CredentialBackend] = Registry("credential backend")


def env_name(cred: str) -> str:
    return "STACKSCRIPTS_CRED_" + re.sub(r"[^A-Za-z0-9]", "_", cred).upper()


@credential_backends.decorator("env")
class EnvBackend(CredentialBackend):
    name = "env"

    def get(self, cred: str) -> str | None:
        return os.environ.get(env_name(cred))

    def where(self, cred: str) -> str:
        return f"${env_name(cred)}"

    def put(self, cred: str, value: str, *, replace: bool = True) -> bool:
        raise BadInput(f"the env credential backend cannot store credentials: it only reads ${env_name(cred)}",
                       hint="Store keys in file, ssm or secretsmanager (STACKSCRIPTS_KEY_BACKEND or 'keys:' in "
                            "the project file).")


def default_credentials_file() -> Path:
    if os.environ.get("STACKSCRIPTS_CREDENTIALS"):
        return Path(os.environ["STACKSCRIPTS_CREDENTIALS"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "stackscripts" / "credentials.yaml"


@credential_backends.decorator("file")
class FileBackend(CredentialBackend):
    """A YAML map NAME: value in a file only its owner may read (0600)."""

    name = "file"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_credentials_file()
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            self._data = {}
            if self.path.exists():
                mode = stat.S_IMODE(self.path.stat().st_mode)
                if mode & 0o077:
                    raise BadInput(f"credentials file is readable by others (mode {mode:04o})", file=str(self.path),
                                   hint=f"Run 'chmod 600 {self.path}'.")
                from .. import files, yamlsrc

                data = yamlsrc.load(files.read_text(self.path, "credentials file"), str(self.path)) or {}
                if not isinstance(data, dict):
                    raise BadInput("credentials file must map names to values", file=str(self.path), line=1,
                                   hint="Write lines like 'REGISTRY_PASSWORD: s3cret'.")
                self._data = {str(k): str(v) for k, v in data.items()}
        return self._data

    def get(self, cred: str) -> str | None:
        return self._load().get(cred)

    def where(self, cred: str) -> str:
        return str(self.path)

    def put(self, cred: str, value: str, *, replace: bool = True) -> bool:
        """Add (or replace) NAME: value, the file staying 0600 in a 0700 folder; other entries stay as written
        when the new one can be appended (a replaced entry rewrites the file: its comments are not kept)."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(lock_fd, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may add its key at the same moment
            self._data = None
            data = dict(self._load())
            if cred in data and not replace:
                return False
            data[cred] = value
            self._write(data, f"{json.dumps(cred)}: {json.dumps(value)}\n")
            self._data = data
        return True

    def _write(self, data: dict[str, str], line: str) -> None:
        from .. import yamlsrc

        old = self.path.read_text() if self.path.exists() else ""
        text = old + ("\n" if old and not old.endswith("\n") else "") + line
        try:
            appended = yamlsrc.load(text, str(self.path))
        except BadInput:  # e.g. the name was there already (a duplicate key)
            appended = None
        if not isinstance(appended, dict) or {str(k): str(v) for k, v in appended.items()} != data:
            text = "".join(f"{json.dumps(k)}: {json.dumps(v)}\n" for k, v in data.items())
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)


class _AwsBackend(CredentialBackend):
    prefix_env = ""

    def __init__(self) -> None:
        self.prefix = os.environ.get(self.prefix_env, "/stackscripts/")
        self._client = None

    def client(self) -> Any:
        if self._client is None:
            from .. import aws

            self._client = aws.client(self.service)
        return self._client

    service = ""

    def where(self, cred: str) -> str:
        return f"{self.name} {self.prefix}{cred}"


@credential_backends.decorator("ssm")
class SSMBackend(_AwsBackend):
    name, service, prefix_env = "ssm", "ssm", "STACKSCRIPTS_SSM_PREFIX"

    def get(self, cred: str) -> str | None:
        from .. import aws

        try:
            result = aws.call("SSM GetParameter", self.client().get_parameter,
                              Name=self.prefix + cred, WithDecryption=True)
        except Exception as exc:
            if aws.error_code(exc) == "ParameterNotFound":
                return None
            raise
        return result["Parameter"]["Value"]

    def put(self, cred: str, value: str, *, replace: bool = True) -> bool:
        """A SecureString parameter (encrypted with the account's aws/ssm key)."""
        from .. import aws

        def create() -> bool:
            try:
                self.client().put_parameter(Name=self.prefix + cred, Value=value, Type="SecureString",
                                            Overwrite=replace)
            except Exception as exc:
                if aws.error_code(exc) == "ParameterAlreadyExists":
                    return False
                raise
            return True

        return bool(aws.call("SSM PutParameter", create))


@credential_backends.decorator("secretsmanager")
class SecretsManagerBackend(_AwsBackend):
    name, service, prefix_env = "secretsmanager", "secretsmanager", "STACKSCRIPTS_SECRETS_PREFIX"

    def get(self, cred: str) -> str | None:
        from .. import aws

        try:
            result = aws.call("Secrets Manager GetSecretValue", self.client().get_secret_value,
                              SecretId=self.prefix + cred)
        except Exception as exc:
            if aws.error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        return result.get("SecretString", "")

    def put(self, cred: str, value: str, *, replace: bool = True) -> bool:
        from .. import aws

        def create() -> bool:
            try:
                self.client().create_secret(Name=self.prefix + cred, SecretString=value)
            except Exception as exc:
                if aws.error_code(exc) != "ResourceExistsException":
                    raise
                if not replace:
                    return False
                self.client().put_secret_value(SecretId=self.prefix + cred, SecretString=value)
            return True

        return bool(aws.call("Secrets Manager CreateSecret/PutSecretValue", create))


class Credentials:
    """Looks a credential up in each configured backend in turn (STACKSCRIPTS_CRED_BACKENDS)."""

    def __init__(self, backends: list[CredentialBackend] | None = None) -> None:
        if backends is None:
            from ..project import default_credential_backends

            configured = os.environ.get("STACKSCRIPTS_CRED_BACKENDS")
            names = configured.split(",") if configured is not None else \
                list(default_credential_backends() or ("env", "file"))
            backends = [credential_backends.get(n.strip())() for n in names if n.strip()]
        self.backends = backends

    def find(self, cred: str) -> str | None:
        """The secret from the first backend that has it, None when none has."""
        for backend in self.backends:
            value = backend.get(cred)
            if value is not None:
                return value
        return None

    def looked(self, cred: str) -> str:
        """Where `find` looks for `cred`, for an error message."""
        return "; ".join(b.where(cred) for b in self.backends) or "no backend configured"

    def get(self, cred: str, *, input_name: str | None = None) -> str:
        value = self.find(cred)
        if value is not None:
            return value
        looked = self.looked(cred)
        label = f"input {input_name}: " if input_name else ""
        raise BadInput(f"{label}credential {cred!r} not found (looked in: {looked})",
                       hint=f"Set {env_name(cred)}, add it to {default_credentials_file()} (mode 0600), "
                            "or enable ssm/secretsmanager with STACKSCRIPTS_CRED_BACKENDS.")
