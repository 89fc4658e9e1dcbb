"""registry-proxy: a TCP proxy that makes each connection to a registry as slow as one across the internet.

Run by the "Registry Server" RightScript with the base image's python3-minimal (threads, no asyncio):

    python3 registry-proxy.py --listen 5000 --backend 127.0.0.1:5001 --rate 2m --delay 100ms --user nobody

--rate: bytes a second that each connection carries in each direction (a number with an optional k or m
suffix, as nginx's limit_rate; 0 or empty: no limit). --delay: what every chunk the client sends waits before
it reaches the registry, as a link's latency would (bytes keep their order and an upload's throughput is not
cut): each request/response turn of HTTP costs that much more. HTTP passes through untouched, so the registry's
htpasswd authentication works as without the proxy. One line per connection on stderr. Bad arguments: exit 2.
"""

import argparse
import collections
import os
import pwd
import re
import socket
import sys
import threading
import time

MAX_CONNECTIONS = 256
QUEUE_LIMIT = 4 << 20  # bytes read from a client but not yet due at the registry


def parse_rate(text: str) -> float | None:
    """'2m' -> 2097152.0 bytes a second; '' or '0' -> None (no limit)."""
    if not text.strip():
        return None
    match = re.fullmatch(r"([0-9]+)([kKmM]?)", text.strip())
    if not match:
        raise ValueError(f"--rate must be bytes a second with an optional k or m suffix (e.g. 2m), not {text!r}")
    value = int(match.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20}[match.group(2).lower()]
    return float(value) or None


def parse_delay(text: str) -> float:
    """'100ms' -> 0.1, '0.5s' -> 0.5, '' -> 0.0 seconds."""
    if not text.strip():
        return 0.0
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(ms|s)", text.strip())
    if not match:
        raise ValueError(f"--delay must be a duration such as 100ms or 0.5s, not {text!r}")
    return float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)


class Pacer:
    """Spaces one direction's writes so that it carries at most `rate` bytes a second on average."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.ready = 0.0

    def sent(self, size: int) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        self.ready = max(self.ready, now) + size / self.rate
        if self.ready > now:
            time.sleep(self.ready - now)


class Connection:
    """One client connection and its connection to the registry: three threads, closed together."""

    def __init__(self, client: socket.socket, peer: str, args: argparse.Namespace) -> None:
        self.client, self.peer, self.args = client, peer, args
        self.backend: socket.socket | None = None
        self.chunk = int(min(65536, max(1024, (args.rate or 1 << 30) / 20)))
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.lock = threading.Lock()
        self.closed = False
        self.bytes = {"up": 0, "down": 0}
        self.started = time.monotonic()
        self.done = 0

    def run(self) -> None:
        try:
            self.backend = socket.create_connection(self.args.backend, timeout=10)
            self.backend.settimeout(None)
        except OSError as exc:
            print(f"registry-proxy: {self.peer}: cannot reach the registry at {self.args.backend}: {exc}",
                  file=sys.stderr, flush=True)
            self.close()
            return
        for target in (self.read_client, self.write_backend, self.pump_down):
            threading.Thread(target=target, daemon=True).start()

    def read_client(self) -> None:
        """Client bytes into the queue, each chunk due `delay` seconds after it arrived; b'' marks the end."""
        try:
            while True:
                data = self.client.recv(self.chunk)
                with self.cond:
                    while self.queued > QUEUE_LIMIT and not self.closed:
                        self.cond.wait()
                    self.queue.append((time.monotonic() + self.args.delay, data))
                    self.queued += len(data)
                    self.cond.notify_all()
                if not data:
                    return
        except OSError:
            self.close()

    def write_backend(self) -> None:
        """Queued chunks to the registry when due, paced; its write side shut once the client's has."""
        assert self.backend is not None
        pacer = Pacer(self.args.rate)
        try:
            while True:
                with self.cond:
                    while not self.queue and not self.closed:
                        self.cond.wait()
                    if self.closed:
                        return
                    due, data = self.queue.popleft()
                    self.queued -= len(data)
                    self.cond.notify_all()
                time.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    self.backend.shutdown(socket.SHUT_WR)
                    self.finished()
                    return
                self.backend.sendall(data)
                self.bytes["up"] += len(data)
                pacer.sent(len(data))
        except OSError:
            self.close()

    def pump_down(self) -> None:
        """Registry bytes to the client, paced; the client's write side shut when the registry's ends."""
        assert self.backend is not None
        pacer = Pacer(self.args.rate)
        try:
            while True:
                data = self.backend.recv(self.chunk)
                if not data:
                    self.client.shutdown(socket.SHUT_WR)
                    self.finished()
                    return
                self.client.sendall(data)
                self.bytes["down"] += len(data)
                pacer.sent(len(data))
        except OSError:
            self.close()

    def finished(self) -> None:
        with self.lock:
            self.done += 1
            both = self.done == 2
        if both:
            self.close()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        with self.cond:
            self.cond.notify_all()
        for sock in (self.client, self.backend):
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        seconds = time.monotonic() - self.started
        print(f"registry-proxy: {self.peer}: up {self.bytes['up']} B, down {self.bytes['down']} B, {seconds:.2f}s",
              file=sys.stderr, flush=True)
        self.args.slots.release()


def listen(port: int) -> socket.socket:
    """A listening socket on every address: IPv6 and IPv4 where the host has both."""
    if socket.has_dualstack_ipv6():
        return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True, backlog=128)
    return socket.create_server(("", port), backlog=128)


def drop_privileges(user: str) -> None:
    if not user or os.getuid() != 0:
        return
    entry = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="registry-proxy", description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, required=True, help="port to listen on, every address")
    p.add_argument("--backend", required=True, help="HOST:PORT of the registry itself")
    p.add_argument("--rate", default="", help="bytes a second per connection and direction, e.g. 2m")
    p.add_argument("--delay", default="", help="latency added to each request, e.g. 100ms")
    p.add_argument("--user", default="", help="user to run as once the port is bound (when started as root)")
    args = p.parse_args(argv)
    host, _, port = args.backend.rpartition(":")
    try:
        args.rate, args.delay = parse_rate(args.rate), parse_delay(args.delay)
        if not host or not port.isdigit() or not 0 < args.listen < 65536:
            raise ValueError(f"--backend must be HOST:PORT and --listen a port, not {args.backend!r}, {args.listen}")
    except ValueError as exc:
        p.error(str(exc))
    args.backend = (host, int(port))
    args.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
    return args


def main() -> int:
    args = parse_args()
    try:
        server = listen(args.listen)
    except OSError as exc:
        print(f"registry-proxy: cannot listen on port {args.listen}: {exc}", file=sys.stderr, flush=True)
        return 1
    drop_privileges(args.user)
    rate = f"{args.rate:.0f} B/s per connection each way" if args.rate else "no rate limit"
    print(f"registry-proxy: listening on port {args.listen} for {args.backend[0]}:{args.backend[1]}: {rate}, "
          f"{args.delay * 1000:.0f} ms added to each request", file=sys.stderr, flush=True)
    while True:
        try:
            client, address = server.accept()
        except OSError as exc:  # out of file descriptors, say: wait for connections to end
            print(f"registry-proxy: accept: {exc}", file=sys.stderr, flush=True)
            time.sleep(0.1)
            continue
        if not args.slots.acquire(blocking=False):
            client.close()
            continue
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        host = address[0].removeprefix("::ffff:")  # an IPv4 client of the dual-stack socket
        Connection(client, f"{host}:{address[1]}", args).run()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
