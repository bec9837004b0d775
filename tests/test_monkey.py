"""gevent.monkey's API on throwaway modules (real patching runs in tests/isolated)."""

from __future__ import annotations

import inspect
import sys
import types

import pytest

from gevent import events, monkey
from gevent.monkey import _state


@pytest.fixture
def modules():
    """A throwaway target and source module, registered in sys.modules, cleaned up after."""
    target = types.ModuleType("gevent_test_target")
    target.blocking = lambda: "blocking"
    target.keep = lambda: "keep"
    source = types.ModuleType("gevent_test_source")
    source.blocking = lambda: "green"
    source.added = lambda: "added"
    source.__implements__ = ["blocking", "added"]
    sys.modules[target.__name__] = target
    sys.modules[source.__name__] = source
    yield target, source
    for module in (target, source):
        sys.modules.pop(module.__name__, None)
        _state.saved.pop(module.__name__, None)


@pytest.fixture
def subscriber():
    seen = []
    events.subscribers.append(seen.append)
    yield seen
    events.subscribers.remove(seen.append)


def test_public_surface_matches_gevent():
    for name in ("patch_all", "patch_builtins", "patch_dns", "patch_os", "patch_queue",
                 "patch_select", "patch_signal", "patch_socket", "patch_ssl",
                 "patch_subprocess", "patch_sys", "patch_thread", "patch_time", "get_original",
                 "is_module_patched", "is_object_patched", "patch_module", "main",
                 "MonkeyPatchWarning", "patch_item", "saved"):
        assert name in monkey.__all__ and hasattr(monkey, name), name
    assert issubclass(monkey.MonkeyPatchWarning, RuntimeWarning)
    params = inspect.signature(monkey.patch_all).parameters
    assert list(params)[:15] == ["socket", "dns", "time", "select", "thread", "os", "ssl",
                                 "subprocess", "sys", "aggressive", "Event", "builtins",
                                 "signal", "queue", "contextvars"]
    assert params["sys"].default is False
    assert all(params[n].default is True for n in list(params)[:15] if n != "sys")
    assert list(inspect.signature(monkey.patch_thread).parameters)[:5] == [
        "threading", "_threading_local", "Event", "logging", "existing_locks"]


def test_patch_module_replaces_declared_items(modules, subscriber):
    target, source = modules
    original = target.blocking
    assert monkey.patch_module(target, source) is True
    assert target.blocking() == "green" and target.added() == "added"
    assert target.keep() == "keep"
    assert monkey.is_module_patched(target.__name__)
    assert monkey.is_object_patched(target.__name__, "blocking")
    assert not monkey.is_object_patched(target.__name__, "keep")
    assert monkey.get_original(target.__name__, "blocking") is original
    assert monkey.get_original(target.__name__, ["keep", "blocking"]) == [target.keep, original]
    with pytest.raises(AttributeError):
        monkey.get_original(target.__name__, "added")  # did not exist before patching
    kinds = [type(e).__name__ for e in subscriber]
    assert kinds == ["GeventWillPatchModuleEvent", "GeventDidPatchModuleEvent"]
    assert subscriber[0].module_name == target.__name__
    assert subscriber[0].source is source and subscriber[0].target is target
    # a second patch keeps the first original
    monkey.patch_module(target, source)
    assert monkey.get_original(target.__name__, "blocking") is original


def test_patch_module_by_name_and_explicit_items(modules):
    target, source = modules
    assert monkey.patch_module(target.__name__, source.__name__, items=["blocking"])
    assert target.blocking() == "green" and not hasattr(target, "added")


def test_patch_module_needs_implements(modules):
    target, source = modules
    del source.__implements__
    with pytest.raises(AttributeError):
        monkey.patch_module(target, source)


def test_do_not_patch_skips_the_module(modules):
    target, source = modules

    def veto(event):
        if isinstance(event, events.GeventWillPatchModuleEvent):
            raise events.DoNotPatch

    events.subscribers.append(veto)
    try:
        assert monkey.patch_module(target, source) is False
    finally:
        events.subscribers.remove(veto)
    assert target.blocking() == "blocking"
    assert not monkey.is_module_patched(target.__name__)


def test_source_hooks_are_called(modules):
    target, source = modules
    calls = []

    def will(target_module, items, warn, **kwargs):
        calls.append(("will", target_module, list(items), kwargs))

    def did(target_module, items, warn, **kwargs):
        calls.append(("did", target_module, list(items), kwargs))

    source._gevent_will_monkey_patch = will
    source._gevent_did_monkey_patch = did
    monkey.patch_module(target, source, _patch_kwargs={"aggressive": True})
    assert calls == [("will", target, ["blocking", "added"], {"aggressive": True}),
                     ("did", target, ["blocking", "added"], {"aggressive": True})]


def test_patch_item_and_remove_item(modules):
    target, _source = modules
    original = target.keep
    monkey.patch_item(target, "keep", "new")
    assert target.keep == "new" and monkey.get_original(target.__name__, "keep") is original
    monkey.remove_item(target, "blocking")
    assert not hasattr(target, "blocking")
    assert monkey.get_original(target.__name__, "blocking")() == "blocking"
    monkey.remove_item(target, "never-there")  # nothing to remove: no error


def test_get_original_of_unpatched_module_imports_it():
    import colorsys

    assert monkey.get_original("colorsys", "rgb_to_hsv") is colorsys.rgb_to_hsv
    with pytest.raises(AttributeError):
        monkey.get_original("colorsys", "no_such_thing")


def test_get_original_takes_alternative_module_names(modules):
    # As gevent documents: the first module of the sequence that exists supplies every item.
    target, source = modules
    original = target.blocking
    monkey.patch_module(target, source)
    names = ("gevent_no_such_module", target.__name__, "colorsys")
    assert monkey.get_original(names, "blocking") is original
    assert monkey.get_original(list(names), ["blocking", "keep"]) == [original, target.keep]
    import colorsys

    assert monkey.get_original(("gevent_no_such_module", "colorsys"),
                               "rgb_to_hsv") is colorsys.rgb_to_hsv
    with pytest.raises(ImportError, match="gevent_no_such_module_2"):
        monkey.get_original(("gevent_no_such_module", "gevent_no_such_module_2"), "x")


def test_nothing_is_patched_in_the_test_process():
    import socket

    assert socket.socket.__module__ == "socket"
    assert not monkey.is_module_patched("socket")
