"""Hello world, as a WSGI application.

Serve it with ``python -m gevent.pywsgi --host 127.0.0.1 --port 8000 examples.hello:application``
(what ``make run`` does), then ``curl http://127.0.0.1:8000/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"Hello, World!\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", list(HEADERS))
    return [BODY]


if __name__ == "__main__":
    from gevent.pywsgi import WSGIServer

    print("Serving on http://127.0.0.1:8000/")
    WSGIServer(("127.0.0.1", 8000), application).serve_forever()
