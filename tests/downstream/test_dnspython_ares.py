"""dnspython as a library under ``patch_all()``: its stub resolver and ``dns.query`` go through
our cooperative UDP/TCP sockets and ``select``, so many lookups against a slow local DNS
server overlap instead of queueing; and patched ``socket.getaddrinfo`` through the c-ares
resolver chosen with ``gevent.config``. (The resolvers' own API is tested in
tests/test_resolver_dns.py.)
"""

from __future__ import annotations

import pytest

from conftest import run_patched

pytest.importorskip("dns", reason="dnspython is in the 'test' extra")

SERVER = """
    import socket, struct, time
    import gevent
    import dns.message, dns.rrset, dns.query, dns.resolver
    from gevent.server import DatagramServer, StreamServer

    DELAY = 0.3

    def answer(wire):
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        name = query.question[0].name
        number = int(name.labels[0][1:] or b"0")
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", f"10.0.0.{number}"))
        return response.to_wire()

    class UDP(DatagramServer):
        def handle(self, data, address):
            gevent.sleep(DELAY)  # a slow upstream: only overlap keeps the total short
            self.socket.sendto(answer(data), address)

    def tcp_handle(sock, address):
        length = struct.unpack("!H", sock.recv(2))[0]
        data = b""
        while len(data) < length:
            data += sock.recv(length - len(data))
        gevent.sleep(DELAY)
        reply = answer(data)
        sock.sendall(struct.pack("!H", len(reply)) + reply)
        sock.close()

    # One port for both protocols. The free UDP port may be taken for TCP (by another
    # program's connection, on a busy machine): try a few.
    for _attempt in range(50):
        udp = UDP(("127.0.0.1", 0))
        udp.start()
        port = udp.address[1]
        tcp = StreamServer(("127.0.0.1", port), tcp_handle)
        try:
            tcp.start()
            break
        except OSError:
            udp.close()
    else:
        raise RuntimeError("no port free for both UDP and TCP")
"""


def test_stub_resolver_lookups_overlap():
    run_patched(SERVER + """
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.lifetime = 5

    def lookup(i):
        return [r.address for r in resolver.resolve(f"h{i}.example.test.", "A")]

    start = time.monotonic()
    jobs = [gevent.spawn(lookup, i) for i in range(20)]
    gevent.joinall(jobs, timeout=10, raise_error=True)
    elapsed = time.monotonic() - start
    assert [job.value for job in jobs] == [[f"10.0.0.{i}"] for i in range(20)]
    assert elapsed < 3 * DELAY, elapsed  # 20 lookups of 0.3 s each, at once
    udp.stop(); tcp.stop()
    print("OK")
    """, timeout=40)


def test_dns_query_udp_and_tcp_with_timeouts():
    run_patched(SERVER + """
    query = dns.message.make_query("h7.example.test.", "A")
    start = time.monotonic()
    jobs = [gevent.spawn(dns.query.udp, query, "127.0.0.1", timeout=5, port=port),
            gevent.spawn(dns.query.tcp, query, "127.0.0.1", timeout=5, port=port)]
    gevent.joinall(jobs, timeout=10, raise_error=True)
    assert time.monotonic() - start < 3 * DELAY
    for job in jobs:
        assert job.value.answer[0][0].address == "10.0.0.7"

    # nobody answers on this port: dnspython's own timeout fires, through our select/sockets
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.02)) for _ in range(5)])
    start = time.monotonic()
    try:
        dns.query.udp(query, "127.0.0.1", timeout=0.3, port=silent.getsockname()[1])
    except dns.exception.Timeout:
        pass
    else:
        raise AssertionError("no timeout")
    assert 0.25 <= time.monotonic() - start < 2.0
    ticker.join(5)
    assert len(ticks) == 5
    silent.close()
    udp.stop(); tcp.stop()
    print("OK")
    """, timeout=40)


def test_patched_getaddrinfo_through_the_ares_resolver():
    pytest.importorskip("pycares", reason="pycares is in the 'test' extra")
    run_patched(SERVER + """
    # configured the documented way, before the hub first needs its resolver
    gevent.config.resolver = "ares"
    gevent.config.resolver_nameservers = "127.0.0.1"
    gevent.config.ares_udp_port = port
    gevent.config.ares_tcp_port = port
    assert type(gevent.get_hub().resolver).__module__ == "gevent.resolver.ares"

    def lookup(i):
        infos = socket.getaddrinfo(f"h{i}.example.test", 80, socket.AF_INET, socket.SOCK_STREAM)
        return sorted({info[4][0] for info in infos})

    start = time.monotonic()
    jobs = [gevent.spawn(lookup, i) for i in range(10)]
    gevent.joinall(jobs, timeout=10, raise_error=True)
    assert [job.value for job in jobs] == [[f"10.0.0.{i}"] for i in range(10)]
    assert time.monotonic() - start < 3 * DELAY
    udp.stop(); tcp.stop()
    print("OK")
    """, timeout=40)
