"""Issue 4: 1 GiB through one TCP connection on 127.0.0.1, ``sendall`` of 64 KiB chunks on
one side and ``recv_into`` a 64 KiB buffer on the other, both gevent sockets.

Argument ``tls``: the same through ``gevent.ssl`` (self-signed certificate in ``.bench/``).
Metric: MiB per second.
"""

import sys

from benchlib import LOOPBACK, emit, ensure_certificate, now, scaled

import gevent
from gevent import socket

USE_TLS = len(sys.argv) > 1 and sys.argv[1] == "tls"
CHUNK = 64 * 1024
CHUNKS = scaled(16 * 1024)  # 1 GiB


def send(sock, chunks: int) -> None:
    data = b"\x5a" * CHUNK
    sendall = sock.sendall
    for _ in range(chunks):
        sendall(data)


def receive(sock, total: int) -> int:
    buffer = memoryview(bytearray(CHUNK))
    recv_into = sock.recv_into
    received = 0
    while received < total:
        count = recv_into(buffer)
        if not count:
            raise ConnectionError("sender closed early")
        received += count
    return received


def connected_pair():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    if not USE_TLS:
        return client, server
    from gevent import ssl

    certfile, keyfile = ensure_certificate()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certfile, keyfile)
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    server_side = gevent.spawn(server_context.wrap_socket, server, server_side=True)
    client = client_context.wrap_socket(client, server_hostname="localhost")
    return client, server_side.get(timeout=10)


def run(chunks: int) -> float:
    sender_sock, receiver_sock = connected_pair()
    start = now()
    sender = gevent.spawn(send, sender_sock, chunks)
    receiver = gevent.spawn(receive, receiver_sock, chunks * CHUNK)
    gevent.joinall([sender, receiver], raise_error=True)
    elapsed = now() - start
    sender_sock.close()
    receiver_sock.close()
    return elapsed


run(16)  # warm up
elapsed = run(CHUNKS)
emit(mib_per_s=CHUNKS * CHUNK / (1024 * 1024) / elapsed)
