"""Every name gevent's network modules declare exists in the running Python's stdlib module."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    ("socket", "gevent.socket"),
    ("ssl", "gevent.ssl"),
    ("select", "gevent.select"),
    ("selectors", "gevent.selectors"),
]


@pytest.mark.parametrize("std_name,ours_name", MODULES)
def test_implements_and_imports_exist_in_the_stdlib(std_name, ours_name):
    std = importlib.import_module(std_name)
    ours = importlib.import_module(ours_name)
    missing = [name for name in ours.__implements__ if not hasattr(std, name)]
    assert not missing, f"{ours_name} implements names {std_name} lacks: {missing}"
    for name in ours.__imports__:
        assert hasattr(std, name), name
        assert getattr(ours, name) is getattr(std, name), name
    overlap = set(ours.__implements__) & set(ours.__imports__)
    assert not overlap


@pytest.mark.parametrize("std_name,ours_name", MODULES)
def test_declared_and_public_names_exist_in_ours(std_name, ours_name):
    ours = importlib.import_module(ours_name)
    for name in list(ours.__implements__) + list(getattr(ours, "__extensions__", [])) + list(
            ours.__all__):
        assert hasattr(ours, name), name
    assert not set(ours.__extensions__) & set(ours.__implements__)


@pytest.mark.parametrize("std_name,ours_name", MODULES)
def test_every_public_stdlib_name_is_available(std_name, ours_name):
    std = importlib.import_module(std_name)
    ours = importlib.import_module(ours_name)
    public = getattr(std, "__all__", None) or [
        n for n in dir(std) if not n.startswith("_")
        and not type(getattr(std, n)).__name__ == "module"
    ]
    if std_name == "selectors":
        public = [n for n in public if n.endswith("Selector") or n.startswith("EVENT_")
                  or n == "SelectorKey"]
    missing = [name for name in public if not hasattr(ours, name)]
    assert not missing


def test_socket_class_is_the_one_patched_in():
    import socket as std

    from gevent import socket

    assert issubclass(socket.socket, std.socket)
    assert "socket" in socket.__implements__
    assert "SSLContext" not in importlib.import_module("gevent.ssl").__implements__
