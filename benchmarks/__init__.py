"""Benchmarks for stackscripts against raw OpenSSH, Fabric, pyinfra and ansible-core: `python -m benchmarks`."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # the harness reuses tests/support/sshd.py, which lives beside this package
    sys.path.insert(0, _ROOT)
