"""Greenlet-local storage: like :class:`threading.local`, but per greenlet.

Each greenlet sees its own attributes. A subclass's ``__init__`` runs again, with the arguments
given at construction, the first time each greenlet touches the object. Data is dropped when the
greenlet goes away.
"""

from __future__ import annotations

import weakref
from typing import Any

from greenlet import getcurrent

__all__ = ["local"]

_object_getattribute = object.__getattribute__
_object_setattr = object.__setattr__


class _LocalState:
    __slots__ = ("dicts", "args", "kwargs", "key", "__weakref__")

    def __init__(self, args, kwargs) -> None:
        # greenlet -> its attribute dict. Keyed weakly so a finished greenlet's data goes away.
        self.dicts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.args = args
        self.kwargs = kwargs
        self.key: tuple = ()  # (the local's class, its id)


class _DropWhenDead:
    """Linked to a Greenlet that got attributes in a local: drops them when it finishes, even
    if something still references the dead greenlet (as gevent does). Unlinked again if the
    local goes first, so a long-running greenlet does not collect links."""

    __slots__ = ("state_ref", "__weakref__")

    def __init__(self, state, glet) -> None:
        glet_ref = weakref.ref(glet)

        def local_gone(_ref, glet_ref=glet_ref, dropper_ref=weakref.ref(self)) -> None:
            glet = glet_ref()
            dropper = dropper_ref()
            if glet is not None and dropper is not None:
                glet.unlink(dropper)

        self.state_ref = weakref.ref(state, local_gone)

    def __call__(self, glet) -> None:
        state = self.state_ref()
        if state is not None:
            state.dicts.pop(glet, None)


def _current_dict(self) -> dict:
    state = _object_getattribute(self, "_local__state")
    glet = getcurrent()
    d = state.dicts.get(glet)
    if d is None:
        d = _new_dict(state, glet)
        cls = type(self)
        if cls.__init__ is not local.__init__:
            # First use in this greenlet: run the subclass's __init__ in it.
            cls.__init__(self, *state.args, **state.kwargs)
    return d


def _new_dict(state: _LocalState, glet) -> dict:
    d: dict = {}
    state.dicts[glet] = d
    rawlink = getattr(glet, "rawlink", None)
    if rawlink is not None and not glet.dead:
        rawlink(_DropWhenDead(state, glet))
    return d


class local:
    """Attributes stored per greenlet."""

    __slots__ = ("_local__state", "__weakref__")

    def __new__(cls, *args: Any, **kwargs: Any):
        if (args or kwargs) and cls.__init__ is local.__init__:
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        state = _LocalState(args, kwargs)
        state.key = (cls, id(self))
        _all_states[id(state)] = state  # the local alone keeps its state alive
        _object_setattr(self, "_local__state", state)
        _new_dict(state, getcurrent())
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattribute__(self, name: str) -> Any:
        if name in ("_local__state", "__class__"):
            return _object_getattribute(self, name)
        d = _current_dict(self)
        if name == "__dict__":
            return d
        # Python's own order: a data descriptor of the class (a slot, a property) first, then
        # this greenlet's dict, then the other class attributes.
        cls = type(self)
        for klass in cls.__mro__:
            if name in klass.__dict__:
                attr = klass.__dict__[name]
                kind = type(attr)
                get = getattr(kind, "__get__", None)
                if get is not None and (hasattr(kind, "__set__") or hasattr(kind, "__delete__")):
                    return get(attr, self, cls)
                try:
                    return d[name]
                except KeyError:
                    pass
                if get is not None:
                    return get(attr, self, cls)
                return attr
        try:
            return d[name]
        except KeyError:
            pass
        raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "__dict__":
            raise AttributeError(
                f"{type(self).__name__!r} object attribute '__dict__' is read-only"
            )
        for klass in type(self).__mro__:
            attr = klass.__dict__.get(name)
            if attr is not None and hasattr(type(attr), "__set__"):
                type(attr).__set__(attr, self, value)
                return
        _current_dict(self)[name] = value

    def __delattr__(self, name: str) -> None:
        if name == "__dict__":
            raise AttributeError(
                f"{type(self).__name__!r} object attribute '__dict__' is read-only"
            )
        for klass in type(self).__mro__:
            attr = klass.__dict__.get(name)
            if attr is not None and hasattr(type(attr), "__delete__"):
                type(attr).__delete__(attr, self)
                return
        d = _current_dict(self)
        try:
            del d[name]
        except KeyError:
            raise AttributeError(name) from None

    def __copy__(self):
        # As gevent does: a new instance made with the same arguments (so __init__ runs and
        # sets its slots), then given a shallow copy of this greenlet's attributes.
        cls = type(self)
        state = _object_getattribute(self, "_local__state")
        duplicate = cls(*state.args, **state.kwargs)
        values = dict(_current_dict(self))
        d = _current_dict(duplicate)
        d.clear()
        d.update(values)
        return duplicate


# Compatibility: names that gevent's users and tests reach.


def all_local_dicts_for_greenlet(greenlet) -> list:
    """``[((local class, id(local)), attribute dict), ...]`` for every local object that has
    attributes in *greenlet*."""
    found = []
    for state in list(_all_states.values()):
        d = state.dicts.get(greenlet)
        if d is not None:
            found.append((state.key, d))
    return found


_all_states: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
