"""The bare Fabric loop as a script, timed as a whole process (start-up and imports included):

    python benchmarks/fabric_loop.py SPEC.json

SPEC.json: {"timeout": SECONDS, "hosts": [{"host", "port", "user", "key", "commands": [COMMAND, ...]}, ...]}.
One fabric.Connection per host on a socket with TCP_NODELAY, each command a `conn.run()`, hosts in threads.
It imports nothing from this repository, so its start-up is Fabric's own. Exit 1 if any command failed.
"""

from __future__ import annotations

import json
import socket
import sys
import threading

from fabric import Connection


def one_host(host: dict, timeout: float, errors: list[str]) -> None:
    """Connect, run every command in order, close; the first failure goes to errors."""
    try:
        sock = socket.create_connection((host["host"], host["port"]), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(host["host"], user=host["user"], port=host["port"], connect_timeout=10,
                          connect_kwargs={"sock": sock, "key_filename": host["key"],
                                          "look_for_keys": False, "allow_agent": False})
        try:
            for command in host["commands"]:
                conn.run(command, hide=True, in_stream=False, timeout=timeout)
        finally:
            conn.close()
            sock.close()
    except Exception as exc:  # noqa: BLE001 - reported by the main thread
        errors.append(f"{host['host']}:{host['port']}: {type(exc).__name__}: {exc}"[:300])


def main(argv: list[str]) -> int:
    with open(argv[0]) as f:
        spec = json.load(f)
    errors: list[str] = []
    threads = [threading.Thread(target=one_host, args=(host, spec["timeout"], errors)) for host in spec["hosts"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
