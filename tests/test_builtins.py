"""gevent.builtins: nothing to replace on Python 3, the builtins re-exported."""

from __future__ import annotations

import builtins

import gevent.builtins as gbuiltins


def test_declarations():
    assert gbuiltins.__implements__ == []
    assert gbuiltins.__all__ == []


def test_builtins_are_reexported():
    assert gbuiltins.open is builtins.open
    assert gbuiltins.print is builtins.print
    for name in gbuiltins.__imports__:
        assert getattr(gbuiltins, name) is getattr(builtins, name), name


def test_imports_in_greenlets():
    import gevent

    def importer():
        import importlib
        import json  # noqa: F401  (an import inside a greenlet must just work)

        return importlib.import_module("email.mime.text").__name__

    glets = [gevent.spawn(importer) for _ in range(5)]
    gevent.joinall(glets, timeout=10)
    assert [g.value for g in glets] == ["email.mime.text"] * 5
