"""Which environment variables a script body reads, assigns, and which attachments it uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Script

# What every step gets from stackscripts (docs/formats.md, runtime contract).
RUNTIME_VARS = frozenset({"RS_ATTACH_DIR", "RS_PACKAGES", "STACKSCRIPTS_SERVER", "STACKSCRIPTS_RUN_ID"})

# What the login, the shell or the system sets: never an input a script must declare.
LOGIN_VARS = frozenset({
    "HOME", "PATH", "USER", "LOGNAME", "PWD", "OLDPWD", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "MAIL", "MAILPATH", "HOSTNAME", "HOSTTYPE", "OSTYPE", "MACHTYPE", "SHLVL", "COLUMNS", "LINES", "DISPLAY",
    "EDITOR", "VISUAL", "PAGER", "CDPATH", "ENV", "GLOBIGNORE", "INPUTRC", "POSIXLY_CORRECT", "PROMPT_COMMAND",
    "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK", "SSH_ORIGINAL_COMMAND",
    "SUDO_USER", "SUDO_UID", "SUDO_GID", "SUDO_COMMAND", "DEBIAN_FRONTEND", "DBUS_SESSION_BUS_ADDRESS",
    "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY",
    "RANDOM", "SRANDOM", "SECONDS", "LINENO", "IFS", "OPTARG", "OPTIND", "OPTERR", "PIPESTATUS", "EUID", "UID",
    "PPID", "FUNCNAME", "FUNCNEST", "GROUPS", "REPLY", "EPOCHSECONDS", "EPOCHREALTIME", "DIRSTACK", "COPROC",
    "SHELLOPTS", "TIMEFORMAT", "TMOUT", "PS0", "PS1", "PS2", "PS3", "PS4", "_", "BASH", "BASHOPTS", "BASHPID",
    "HISTFILE", "HISTSIZE", "HISTFILESIZE", "HISTCONTROL", "HISTIGNORE", "HISTTIMEFORMAT", "HISTCMD",
})
LOGIN_PREFIXES = ("LC_", "XDG_", "BASH_")


def is_environment(name: str) -> bool:
    """A variable a step finds in its environment without declaring it (runtime contract or login)."""
    return name in RUNTIME_VARS or name in LOGIN_VARS or name.startswith(LOGIN_PREFIXES)


_SHELL_USE = re.compile(r"\$(?:\{[#!]?)?([A-Z_][A-Z0-9_]*)")  # $X, ${X}, ${#X} (length), ${!X} (indirect)
_SHELL_DEFAULT = re.compile(r"\$\{([A-Z_][A-Z0-9_]*):?[=-]([^}]*)\}")
_SHELL_ASSIGN = re.compile(
    r"(?:^\s*|[;&|]\s*|\b(?:then|else|do)\s+|\bexport\s+|\blocal\s+|\breadonly\s+|\bdeclare\s+(?:-\w+\s+)*)"
    r"([A-Z_][A-Z0-9_]*)\+?=")
_SHELL_LOOP = re.compile(r"\b(?:for|read(?:\s+-\w+)*)\s+([A-Z_][A-Z0-9_]*)")
_OTHER_USE = re.compile(
    r"""(?:os\.environ(?:\.get)?\s*[\[(]\s*|os\.getenv\(\s*|ENV(?:\.fetch\()?\[?\s*|\$ENV\{\s*|process\.env\.)['"]?([A-Z_][A-Z0-9_]*)""")
_ATTACH = re.compile(r"\$\{?RS_ATTACH_DIR\}?/([A-Za-z0-9._\-]+)")


@dataclass(frozen=True)
class Usage:
    used: dict[str, int]  # name -> first line it is read
    defaults: dict[str, str]  # ${X:=default} / ${X:-default}
    assigned: frozenset[str]
    attachments: dict[str, int]  # file name -> first line


def is_shell(script: Script) -> bool:
    shebang = script.shebang or "bash"
    return any(shell in shebang.split("/")[-1].split() for shell in ("bash", "sh", "dash", "zsh", "ksh")) or \
        shebang.split()[-1] in ("bash", "sh")


def body_lines(script: Script) -> list[tuple[int, str]]:
    """Lines that are code: not the shebang, not comments (so metadata never counts as use)."""
    out = []
    for number, line in enumerate(script.text.split("\n"), 1):
        stripped = line.lstrip()
        if number == 1 and stripped.startswith("#!"):
            continue
        if stripped.startswith(("#", "//", "--")):
            continue
        out.append((number, line))
    return out


def scan(script: Script) -> Usage:
    used: dict[str, int] = {}
    defaults: dict[str, str] = {}
    assigned: set[str] = set()
    attachments: dict[str, int] = {}
    shell = is_shell(script)
    for number, line in body_lines(script):
        uses = _SHELL_USE.findall(line) if shell else _OTHER_USE.findall(line)
        if not shell:
            uses += _SHELL_USE.findall(line) if script.shebang and "perl" in script.shebang else []
        for name in uses:
            used.setdefault(name, number)
        if shell:
            for name, default in _SHELL_DEFAULT.findall(line):
                defaults.setdefault(name, default)
            assigned.update(_SHELL_ASSIGN.findall(line))
            assigned.update(_SHELL_LOOP.findall(line))
        for name in _ATTACH.findall(line):
            attachments.setdefault(name, number)
    return Usage(used, defaults, frozenset(assigned), attachments)


def input_candidates(script: Script) -> dict[str, int]:
    """Variables read but never assigned in the script and not provided by the runtime."""
    usage = scan(script)
    return {n: line for n, line in usage.used.items() if n not in usage.assigned and not is_environment(n)}
