"""Transports run step bundles on servers. Only transport/ssh.py imports fabric or paramiko."""

from .base import ExecResult, HostSpec, Session, Transport, transports

__all__ = ["ExecResult", "HostSpec", "Session", "Transport", "transports"]
