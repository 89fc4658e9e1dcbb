"""Exact process starts under given roots, from the kernel's process events (the netlink proc connector).

The kernel multicasts an event for every fork, exec and exit on the machine (CONFIG_PROC_EVENTS; listening
needs root). `ProcCounter` follows lineage from the roots it is given (each host's sshd, a tool's launcher):
a new process whose parent is in a root's tree joins that tree, whatever it is reparented to later. So a
forked-and-exited `mkdir` is counted as surely as a daemonized ssh ControlMaster, and nothing depends on
polling. A fork event that arrives before its parent's own (two CPUs) waits in a buffer until the parent
is known. A lost event (socket buffer overrun, ENOBUFS) makes `error` non-empty: the counts are then wrong
and are reported as such, never silently.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field

NETLINK_CONNECTOR = 11
CN_IDX_PROC = CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN, PROC_CN_MCAST_IGNORE = 1, 2
FORK, EXEC, COMM, EXIT = 0x1, 0x2, 0x200, 0x80000000  # exec sets the name (COMM) before its EXEC event
SO_RCVBUFFORCE = 33
HEADER = 16 + 20  # struct nlmsghdr + struct cn_msg
PENDING = 4000  # recent forks of unknown parents (mostly the rest of the machine), kept for late resolution


@dataclass
class Tree:
    """One root's processes: live members, and how many processes (forks) and programs (execs) it started."""

    label: str
    live: set[int] = field(default_factory=set)
    forks: int = 0
    execs: int = 0
    programs: Counter[str] = field(default_factory=Counter)  # exec'd program names (comm; "?" if gone too soon)


class ProcCounter:
    """Listen from construction until close(); add_root() at any time; counts() per label."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 * 1024 * 1024)
        self.sock.bind((0, CN_IDX_PROC))
        self.sock.settimeout(0.2)
        self._lock = threading.Lock()
        self._owner: dict[int, Tree] = {}  # tgid -> the tree it belongs to
        self._trees: dict[str, Tree] = {}
        self._pending: dict[int, list[int]] = {}  # unknown parent tgid -> children, oldest parent first
        self._pending_count = 0
        self._pending_execs: Counter[int] = Counter()  # exec events of processes not (yet) known
        self._names: dict[int, str] = {}  # tgid -> the name its exec just gave it (any process; dropped at exit)
        self.error = ""
        self._stop = threading.Event()
        self._control(PROC_CN_MCAST_LISTEN)
        self._thread = threading.Thread(target=self._listen, name="proc-events", daemon=True)
        self._thread.start()

    def _control(self, op: int) -> None:
        payload = struct.pack("=I", op)
        cn_msg = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
        self.sock.send(struct.pack("=IHHII", 16 + len(cn_msg), 3, 0, 0, os.getpid()) + cn_msg)  # NLMSG_DONE

    def add_root(self, pid: int, label: str) -> None:
        """Follow pid's tree from now on under label (its existing descendants too, read once from /proc)."""
        with self._lock:
            tree = self._trees.setdefault(label, Tree(label))
            for member in [pid, *_descendants(pid)]:
                self._join(member, tree)

    def counts(self, label: str) -> tuple[int, int]:
        """(processes started, programs executed) under label so far."""
        with self._lock:
            tree = self._trees.get(label)
            return (tree.forks, tree.execs) if tree else (0, 0)

    def programs(self, label: str) -> Counter[str]:
        with self._lock:
            tree = self._trees.get(label)
            return Counter(tree.programs) if tree else Counter()

    def live(self, label: str) -> list[int]:
        with self._lock:
            tree = self._trees.get(label)
            return sorted(tree.live) if tree else []

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        try:
            self._control(PROC_CN_MCAST_IGNORE)
        except OSError:
            pass
        self.sock.close()

    def _join(self, tgid: int, tree: Tree) -> None:
        """tgid is in tree now; so are its children whose fork events came first (and theirs)."""
        todo = [tgid]
        while todo:
            member = todo.pop()
            self._owner[member] = tree
            tree.live.add(member)
            early = self._pending.pop(member, [])
            self._pending_count -= len(early)
            for child in early:
                if child not in self._owner:
                    tree.forks += 1
                    late = self._pending_execs.pop(child, 0)
                    tree.execs += late
                    if late:
                        tree.programs[self._names.pop(child, "?")] += late
                    todo.append(child)

    def _park(self, parent: int, child: int) -> None:
        """A fork whose parent is not (yet) known: keep it a while, in case the parent's own event is late."""
        self._pending.setdefault(parent, []).append(child)
        self._pending_count += 1
        while self._pending_count > PENDING:
            oldest = next(iter(self._pending))
            self._pending_count -= len(self._pending.pop(oldest))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.error = "process events were lost (netlink socket buffer overrun)"
                    continue
                if self._stop.is_set():
                    return
                raise
            with self._lock:
                self._handle(data)

    def _handle(self, data: bytes) -> None:
        offset = 0
        while offset + HEADER + 16 <= len(data):
            length = struct.unpack_from("=I", data, offset)[0]
            what = struct.unpack_from("=I", data, offset + HEADER)[0]
            body = offset + HEADER + 16  # after what, cpu, timestamp
            if what == FORK:
                _, parent, pid, tgid = struct.unpack_from("=iiii", data, body)
                if pid == tgid:  # a process, not a thread
                    tree = self._owner.get(parent)
                    if tree is None:
                        self._park(parent, tgid)
                    elif tgid not in self._owner:
                        tree.forks += 1
                        self._join(tgid, tree)
            elif what == EXEC:
                _, tgid = struct.unpack_from("=ii", data, body)
                tree = self._owner.get(tgid)
                if tree is not None:
                    tree.execs += 1
                    tree.programs[self._names.pop(tgid, "") or _comm(tgid)] += 1
                else:
                    self._pending_execs[tgid] += 1
            elif what == COMM:
                _, tgid = struct.unpack_from("=ii", data, body)
                self._names[tgid] = data[body + 8:body + 24].split(b"\0", 1)[0].decode(errors="replace")
            elif what == EXIT:
                pid, tgid = struct.unpack_from("=ii", data, body)
                if pid == tgid:
                    tree = self._owner.pop(tgid, None)
                    if tree is not None:
                        tree.live.discard(tgid)
                    self._pending_execs.pop(tgid, None)
                    self._names.pop(tgid, None)
                    self._pending_count -= len(self._pending.pop(tgid, []))  # its pid may be reused
            offset += max(16, (length + 3) & ~3)


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def available() -> str | None:
    """None if process events can be read here, else why not."""
    try:
        ProcCounter().close()
    except OSError as exc:
        return f"no process events (netlink proc connector): {exc}"
    return None
