"""gevent.local and gevent.contextvars: state per greenlet."""

from __future__ import annotations

import contextvars

import pytest

import gevent
import gevent.contextvars
from gevent.local import local


def test_attributes_are_per_greenlet():
    data = local()
    data.x = "main"

    def worker(value):
        assert not hasattr(data, "x")
        data.x = value
        gevent.sleep(0)
        return data.x

    gs = [gevent.spawn(worker, i) for i in range(5)]
    assert [g.get(timeout=5) for g in gs] == list(range(5))
    assert data.x == "main"


def test_subclass_init_runs_per_greenlet_with_arguments():
    calls = []

    class Config(local):
        default = "class-level"

        def __init__(self, value):
            calls.append(value)
            self.value = value

        @property
        def doubled(self):
            return self.value * 2

    c = Config(3)
    assert c.value == 3 and c.doubled == 6 and c.default == "class-level"
    assert gevent.spawn(lambda: (c.value, c.doubled)).get(timeout=5) == (3, 6)
    assert calls == [3, 3]


def test_local_without_init_rejects_arguments():
    with pytest.raises(TypeError):
        local(1)


def test_slots_subclass():
    class Slotted(local):
        __slots__ = ("shared",)

    s = Slotted()
    s.shared = 1
    s.per_greenlet = 2
    assert s.shared == 1
    assert gevent.spawn(lambda: hasattr(s, "per_greenlet")).get(timeout=5) is False


def test_dict_and_delete():
    data = local()
    data.a = 1
    assert data.__dict__ == {"a": 1}
    del data.a
    with pytest.raises(AttributeError):
        del data.a


def test_data_dropped_with_greenlet():
    import gc
    import weakref

    data = local()

    class Box:
        pass

    refs = []

    def worker():
        box = Box()
        refs.append(weakref.ref(box))
        data.box = box

    gevent.spawn(worker).join(5)
    gevent.sleep(0)
    gc.collect()
    assert refs[0]() is None


def test_contextvars_per_greenlet():
    var = contextvars.ContextVar("var", default="default")
    var.set("main")

    def worker(value):
        before = var.get()
        var.set(value)
        gevent.sleep(0)
        return before, var.get()

    gs = [gevent.spawn(worker, i) for i in range(3)]
    results = [g.get(timeout=5) for g in gs]
    assert [r[1] for r in results] == [0, 1, 2]
    assert var.get() == "main"
    assert gevent.contextvars.ContextVar is contextvars.ContextVar


def test_slots_are_shared_and_win_over_the_greenlet_dict():
    # gevent (and Python's attribute order): a subclass's slot is one value for every
    # greenlet, and it is found before the per-greenlet dict.
    class WithSlot(local):
        __slots__ = ("shared",)

    obj = WithSlot()
    obj.shared = 1

    def other():
        assert obj.shared == 1
        obj.shared = 2

    gevent.spawn(other).get(timeout=5)
    assert obj.shared == 2
    obj.__dict__["shared"] = 42
    assert obj.shared == 2


def test_copy_runs_init_with_the_same_arguments_and_copies_the_dict():
    import copy

    class WithInit(local):
        __slots__ = ("given",)

        def __init__(self, given):
            self.given = given

    thing = object()
    original = WithInit(thing)
    original.path = "123"
    duplicate = copy.copy(original)
    assert duplicate.given is thing and duplicate.path == "123"
    duplicate.path = "321"
    assert original.path == "123"


def test_all_local_dicts_for_greenlet():
    from gevent.local import all_local_dicts_for_greenlet

    def run():
        x = local()
        x.foo = 42
        return id(x), all_local_dicts_for_greenlet(gevent.getcurrent())

    ident, found = gevent.spawn(run).get(timeout=5)
    assert found == [((local, ident), {"foo": 42})]


def test_dead_but_referenced_greenlets_release_their_locals():
    # gevent: a finished greenlet's attributes are dropped even while the greenlet object is
    # still referenced; and the local keeps no greenlet's dict alive by itself.
    import gc
    import weakref

    class Held:
        pass

    store = local()
    refs = []

    def use():
        value = Held()
        refs.append(weakref.ref(value))
        store.value = value

    greenlets = [gevent.spawn(use) for _ in range(3)]
    gevent.joinall(greenlets, timeout=5)
    gevent.sleep(0)  # the links that drop the dicts run
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
    assert all(g.dead for g in greenlets)  # still referenced here
