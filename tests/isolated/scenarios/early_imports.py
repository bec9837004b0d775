"""Patching after a module took socket/ssl/threading names directly warns, naming it."""

import warnings

import early_importer  # noqa: F401  (does `from socket import socket` and friends)

from gevent import monkey

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    monkey.patch_all()

messages = [str(w.message) for w in caught if issubclass(w.category, monkey.MonkeyPatchWarning)]
text = "\n".join(messages)
assert "early_importer (socket)" in text, text
assert "early_importer (Lock)" in text or "early_importer (allocate_lock)" in text, text
assert all(w.filename == __file__ for w in caught), [(w.filename, w.lineno) for w in caught]
# the module keeps the blocking class; everyone else gets gevent's
import socket  # noqa: E402

import gevent.socket  # noqa: E402

assert early_importer.socket is not socket.socket
assert socket.socket is gevent.socket.socket
print("OK")
