"""Issue 13: what one connection and one socket operation cost, step by step, on our gevent
and on the reference gevent 26.9.0 (the numbers behind docs/design.md, "Per-connection and
per-operation cost").

``.venv/bin/python bench/profile_steps.py`` runs every step in a fresh process on each side
(``--rounds`` times; each step's best batch by process CPU time, median over the rounds) and
prints a table of microseconds per step; ``--side`` runs one side in this process and prints
JSON (what the table is made of). Steps:

- ``raw_*``: the bare system calls (``_socket``, ``os``; no gevent), the floor under each step;
- ``socket_new_close``: ``gevent.socket.socket()`` then ``close()`` (socket(2) + close(2));
- ``accept_ready``: ``listener.accept()`` with a connection already pending (accept4(2) and
  the green socket object around the fd), no wait;
- ``close_fresh``: ``close()`` of an accepted socket that never waited;
- ``recv_first_wait`` / ``recv_next_wait``: ``recv(1)`` that must wait (the peer's send is
  queued as a hub callback): the first wait on a socket (io watchers made, the fd registered
  with epoll) and a later one; each includes the switch to the hub, one poll and the switch
  back, and the callback's send;
- ``close_after_wait``: ``close()`` of a socket that has waited (watchers dropped, the fd
  unregistered);
- ``recv_ready`` / ``send_small``: ``recv(64)`` with data already there, ``send(64 B)`` (the
  connection's first): the fast path, no wait;
- ``spawn``, ``run``, ``join_done``: ``gevent.spawn(f, i)`` of a trivial function, the hub
  running the spawned greenlets (per greenlet), ``join()`` of a finished greenlet;
  ``spawn_join_all``: spawn + ``joinall`` of 100k (the ``spawn_joinall_100k`` workload).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 500  # connections per batch: stays under the listen backlog
# This process's CPU time (user + system): what a step costs, whatever else the machine runs
# (the client sockets live in this process too). Each step keeps its best batch.
now = time.process_time


def _measure_side(batches: int) -> dict[str, float]:
    import _socket
    import socket as stdlib_socket

    import gevent
    from gevent import socket as gsocket

    results: dict[str, list[float]] = {}

    def record(name: str, seconds: float, count: int) -> None:
        results.setdefault(name, []).append(seconds / count * 1e6)

    hub = gevent.get_hub()
    listener = gsocket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM)
    listener.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    address = listener.getsockname()
    payload = b"p" * 64

    # The raw steps use a bare listener of their own (gevent 26.9.0's socket wraps one).
    raw_listener = _socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM)
    raw_listener.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
    raw_listener.bind(("127.0.0.1", 0))
    raw_listener.listen(4096)

    def connect_batch(to=address) -> list:
        clients = []
        for _ in range(BATCH):
            client = _socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM)
            client.connect(to)  # blocking; the kernel completes it before accept
            client.setsockopt(stdlib_socket.IPPROTO_TCP, stdlib_socket.TCP_NODELAY, 1)
            clients.append(client)
        return clients

    for _ in range(batches):
        # Raw floor: socket(2) + close(2); accept4(2) + close(2).
        start = now()
        for _ in range(BATCH):
            _socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM).close()
        record("raw_socket_new_close", now() - start, BATCH)
        clients = connect_batch(raw_listener.getsockname())
        raw_accept = raw_listener._accept
        start = now()
        fds = [raw_accept()[0] for _ in range(BATCH)]
        record("raw_accept_ready", now() - start, BATCH)
        # The first send and a recv with data there, one per connection as below.
        start = now()
        for fd in fds:
            os.write(fd, payload)
        record("raw_send_small", now() - start, BATCH)
        for client in clients:
            client.send(payload)
        time.sleep(0.01)  # let loopback deliver
        start = now()
        for fd in fds:
            os.read(fd, 64)
        record("raw_recv_ready", now() - start, BATCH)
        start = now()
        for fd in fds:
            os.close(fd)
        record("raw_close", now() - start, BATCH)
        for client in clients:
            client.close()

        start = now()
        for _ in range(BATCH):
            gsocket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM).close()
        record("socket_new_close", now() - start, BATCH)

        # accept (ready) and close of a socket that never waited.
        clients = connect_batch()
        accept = listener.accept
        start = now()
        accepted = [accept()[0] for _ in range(BATCH)]
        record("accept_ready", now() - start, BATCH)
        start = now()
        for sock in accepted:
            sock.close()
        record("close_fresh", now() - start, BATCH)
        for client in clients:
            client.close()

        # The first wait, a later wait, the fast paths, and close after waiting.
        clients = connect_batch()
        accepted = [accept()[0] for _ in range(BATCH)]
        run_callback = hub.loop.run_callback
        for which in ("recv_first_wait", "recv_next_wait"):
            start = now()
            for sock, client in zip(accepted, clients, strict=True):
                run_callback(client.send, b"x")
                sock.recv(1)
            record(which, now() - start, BATCH)
        for client in clients:
            client.send(payload)
        time.sleep(0.01)
        start = now()
        for sock in accepted:
            sock.recv(64)
        record("recv_ready", now() - start, BATCH)
        start = now()
        for sock in accepted:
            sock.send(payload)
        record("send_small", now() - start, BATCH)
        start = now()
        for sock in accepted:
            sock.close()
        record("close_after_wait", now() - start, BATCH)
        for client in clients:
            client.close()

    # Greenlets: spawn, run, join, and the whole spawn + joinall of 100k.
    def work(index: int) -> int:
        return index

    spawn = gevent.spawn
    count = 20_000
    for _ in range(batches):
        start = now()
        greenlets = [spawn(work, index) for index in range(count)]
        record("spawn", now() - start, count)
        start = now()
        gevent.sleep(0)  # the hub runs every spawned greenlet, then comes back to us
        gevent.sleep(0)
        record("run", now() - start, count)
        assert all(g.dead for g in greenlets)
        start = now()
        for g in greenlets:
            g.join()
        record("join_done", now() - start, count)
    for _ in range(max(1, batches // 2)):
        start = now()
        greenlets = [spawn(work, index) for index in range(100_000)]
        gevent.joinall(greenlets)
        record("spawn_join_all", now() - start, 100_000)
    listener.close()
    raw_listener.close()
    return {name: min(values) for name, values in results.items()}


STEPS = (
    ("raw_socket_new_close", "socket(2) + close(2), bare `_socket`"),
    ("socket_new_close", "`socket()` + `close()`"),
    ("raw_accept_ready", "accept4(2), bare"),
    ("accept_ready", "`accept()`, connection pending"),
    ("raw_close", "close(2), bare"),
    ("close_fresh", "`close()`, never waited"),
    ("recv_first_wait", "`recv()` that waits, first wait on the socket"),
    ("recv_next_wait", "`recv()` that waits, later waits"),
    ("close_after_wait", "`close()` after a wait"),
    ("raw_recv_ready", "read(2) 64 B, data there, bare"),
    ("recv_ready", "`recv(64)`, data there"),
    ("raw_send_small", "write(2) 64 B, first on the connection, bare"),
    ("send_small", "`send(64 B)`, first on the connection"),
    ("spawn", "`gevent.spawn(f, i)`"),
    ("run", "the hub running a spawned greenlet"),
    ("join_done", "`join()` of a finished greenlet"),
    ("spawn_join_all", "spawn + `joinall`, 100k"),
)


def _run_side(python: str, env: dict, batches: int) -> dict[str, float]:
    completed = subprocess.run(
        [python, os.path.abspath(__file__), "--side", "--batches", str(batches)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", action="store_true", help="measure this process's gevent")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="processes per side")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(_measure_side(args.batches)))
        return 0
    ours_python = os.path.join(ROOT, ".venv", "bin", "python")
    ref_python = os.path.join(ROOT, ".bench", "ref", "bin", "python")
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    sides = {
        "ours": (ours_python, dict(base_env, PYTHONPATH=os.path.join(ROOT, "src"))),
        "ref": (ref_python, base_env),
    }
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "ref": []}
    for _ in range(args.rounds):
        for side, (python, env) in sides.items():
            runs[side].append(_run_side(python, env, args.batches))
    print("| step | ours µs | gevent 26.9.0 µs | gevent/ours |")
    print("| --- | ---: | ---: | ---: |")
    for key, label in STEPS:
        ours = statistics.median(run[key] for run in runs["ours"])
        ref = statistics.median(run[key] for run in runs["ref"])
        print(f"| {label} | {ours:.2f} | {ref:.2f} | {ref / ours:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
