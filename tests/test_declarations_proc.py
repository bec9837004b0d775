"""The process/file green modules declare what they implement, checked against this Python.

``__implements__``: names that replace the standard module's (monkey patching copies them in).
``__extensions__``: gevent-only names. ``__imports__``: the standard objects, re-exported as is.
"""

from __future__ import annotations

import builtins
import importlib
import os
import signal
import subprocess
import time

import pytest

MODULES = {
    "gevent.subprocess": subprocess,
    "gevent.os": os,
    "gevent.signal": signal,
    "gevent.time": time,
    "gevent.builtins": builtins,
}


@pytest.fixture(params=sorted(MODULES))
def pair(request):
    return importlib.import_module(request.param), MODULES[request.param]


def test_implements_replace_stdlib_names(pair):
    green, std = pair
    for name in green.__implements__:
        assert hasattr(std, name), f"{green.__name__}.{name} is not in {std.__name__}"
        assert getattr(green, name) is not getattr(std, name), name
        assert callable(getattr(green, name)), name


def test_extensions_are_gevent_only(pair):
    green, std = pair
    for name in green.__extensions__:
        assert hasattr(green, name), name
        assert not hasattr(std, name), f"{name} exists in {std.__name__}: not an extension"


def test_imports_are_the_stdlib_objects(pair):
    green, std = pair
    for name in green.__imports__:
        assert getattr(green, name) is getattr(std, name), name


def test_declarations_do_not_overlap(pair):
    green, _ = pair
    implements = set(green.__implements__)
    extensions = set(green.__extensions__)
    imports = set(green.__imports__)
    assert not implements & extensions
    assert not implements & imports
    assert not extensions & imports


def test_all_names_exist(pair):
    green, _ = pair
    missing = [name for name in green.__all__ if not hasattr(green, name)]
    assert not missing


def test_stands_in_for_the_stdlib_module(pair):
    green, std = pair
    public = getattr(std, "__all__", None) or [n for n in dir(std) if not n.startswith("_")]
    missing = [name for name in public if not hasattr(green, name)]
    assert not missing, f"{green.__name__} lacks {missing}"


def test_everything_stdlib_popen_accepts_is_implemented():
    import gevent.subprocess as gsub

    for name in ("Popen", "call", "check_call", "check_output", "run", "getoutput",
                 "getstatusoutput"):
        assert name in gsub.__implements__
    for name in ("PIPE", "STDOUT", "DEVNULL", "CompletedProcess", "TimeoutExpired",
                 "CalledProcessError", "SubprocessError", "list2cmdline"):
        assert getattr(gsub, name) is getattr(subprocess, name)


def test_os_declarations_match_gevent():
    import gevent.os as gos

    for name in ("fork", "forkpty", "waitpid", "posix_spawn", "posix_spawnp", "close"):
        assert name in gos.__implements__
    for name in ("nb_read", "nb_write", "tp_read", "tp_write", "make_nonblocking",
                 "fork_gevent", "fork_and_watch", "forkpty_gevent", "forkpty_and_watch"):
        assert name in gos.__extensions__
    assert set(gos.__all__) == set(gos.__implements__) | set(gos.__extensions__)


def test_fileobject_surface():
    import gevent.fileobject as fo

    assert fo.__all__ == ["FileObjectPosix", "FileObjectThread", "FileObjectBlock", "FileObject"]
