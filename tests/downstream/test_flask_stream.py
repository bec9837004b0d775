"""Flask streaming a response chunk by chunk through gevent.pywsgi: each chunk must reach the
client while the generator is still running (chunked transfer, no buffering)."""

from __future__ import annotations

import pytest

flask = pytest.importorskip("flask", reason="flask is in the 'downstream' extra")

import sys  # noqa: E402

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent.parent))

from gevent.event import Event  # noqa: E402
from test_pywsgi import client_of, serving  # noqa: E402


def make_app(gates):
    app = flask.Flask(__name__)

    @app.route("/stream/<int:count>")
    def stream(count):
        @flask.stream_with_context
        def generate():
            for index in range(count):
                yield f"chunk {index} of {flask.request.path}\n"
                # The next chunk is produced only once the client has seen this one.
                if not gates[index].wait(5):
                    yield "client never saw the chunk\n"
                    return

        return flask.Response(generate(), mimetype="text/plain")

    @app.route("/json")
    def json_view():
        return flask.jsonify(ok=True, args=flask.request.args.to_dict())

    return app


def _read_chunk(client):
    size = int(client.read_until(b"\r\n"), 16)
    data = client.read_exact(size)
    assert client.read_exact(2) == b"\r\n"
    return data


def test_flask_streams_chunk_by_chunk():
    gates = [Event() for _ in range(3)]
    with serving(make_app(gates)) as server, client_of(server) as client:
        client.send(b"GET /stream/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = client.read_until(b"\r\n\r\n")
        assert b"200 OK" in head and b"Transfer-Encoding: chunked" in head
        for index in range(3):
            assert _read_chunk(client) == f"chunk {index} of /stream/3\n".encode()
            gates[index].set()
        assert _read_chunk(client) == b""  # the last chunk
        response = client.request(path="/json?a=1")
        assert response.status == 200 and b'"ok":true' in response.body.replace(b" ", b"")
