"""Cooperative selectors: :class:`GeventSelector`, also :data:`DefaultSelector`.

The complete :class:`selectors.BaseSelector` API; ``select(timeout)`` is a switch point built on
:class:`gevent.select.poll`, so it never blocks the hub and has no ``FD_SETSIZE`` limit.
"""

from __future__ import annotations

import os as _os
import selectors as __selectors__
from collections.abc import Mapping

from .select import poll as _gevent_poll

__implements__ = ["DefaultSelector"]
__extensions__ = ["GeventSelector"]
__imports__ = [
    name
    for name in ("BaseSelector", "SelectorKey", "EVENT_READ", "EVENT_WRITE", "SelectSelector",
                 "PollSelector", "EpollSelector", "DevpollSelector", "KqueueSelector")
    if hasattr(__selectors__, name)
]
for _name in __imports__:
    globals()[_name] = getattr(__selectors__, _name)
del _name

__all__ = ["DefaultSelector", "GeventSelector"]

EVENT_READ = __selectors__.EVENT_READ
EVENT_WRITE = __selectors__.EVENT_WRITE
SelectorKey = __selectors__.SelectorKey

_POLLIN = 0x001
_POLLOUT = 0x004


def _fileobj_to_fd(fileobj) -> int:
    if isinstance(fileobj, int):
        fd = fileobj
    else:
        try:
            fd = int(fileobj.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fileobj!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


class _KeyMapping(Mapping):
    """The read-only ``get_map()`` view: file object -> SelectorKey."""

    def __init__(self, selector: GeventSelector) -> None:
        self._selector = selector

    def __len__(self) -> int:
        return len(self._selector._keys)

    def __getitem__(self, fileobj):
        fd = self._selector._lookup(fileobj)
        try:
            return self._selector._keys[fd]
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None

    def __iter__(self):
        return iter(self._selector._keys)


class GeventSelector(__selectors__.BaseSelector):
    """A selector whose ``select()`` waits on the hub (a switch point)."""

    def __init__(self) -> None:
        self._keys: dict[int, SelectorKey] = {}
        self._map: _KeyMapping | None = _KeyMapping(self)
        self._poller = _gevent_poll()

    def _lookup(self, fileobj) -> int:
        try:
            return _fileobj_to_fd(fileobj)
        except ValueError:
            # A closed file object: find it by identity among the registered keys.
            for key in self._keys.values():
                if key.fileobj is fileobj:
                    return key.fd
            raise

    def register(self, fileobj, events, data=None) -> SelectorKey:
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        if self._map is None:
            raise RuntimeError("selector is closed")
        key = SelectorKey(fileobj, self._lookup(fileobj), events, data)
        if key.fd in self._keys:
            raise KeyError(f"{fileobj!r} (FD {key.fd}) is already registered")
        try:
            _os.fstat(key.fd)
        except OSError:
            # As gevent: a descriptor closed behind its object's back is refused here, not
            # reported by every later select().
            raise ValueError("Invalid file descriptor") from None
        self._poller.register(key.fd, self._poll_mask(events))
        self._keys[key.fd] = key
        return key

    def unregister(self, fileobj) -> SelectorKey:
        if self._map is None:
            raise RuntimeError("selector is closed")
        try:
            key = self._keys.pop(self._lookup(fileobj))
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None
        try:
            self._poller.unregister(key.fd)
        except (KeyError, OSError):
            pass  # the fd was closed first: the kernel already forgot it
        return key

    def modify(self, fileobj, events, data=None) -> SelectorKey:
        if self._map is None:
            raise RuntimeError("selector is closed")
        try:
            key = self._keys[self._lookup(fileobj)]
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None
        if events != key.events:
            if not events or events & ~(EVENT_READ | EVENT_WRITE):
                raise ValueError(f"Invalid events: {events!r}")
            self._poller.modify(key.fd, self._poll_mask(events))
            key = key._replace(events=events, data=data)
            self._keys[key.fd] = key
        elif data != key.data:
            key = key._replace(data=data)
            self._keys[key.fd] = key
        return key

    @staticmethod
    def _poll_mask(events: int) -> int:
        return (_POLLIN if events & EVENT_READ else 0) | (_POLLOUT if events & EVENT_WRITE else 0)

    def select(self, timeout: float | None = None) -> list:
        """Wait until some registered object is ready, or *timeout* seconds (None: no limit;
        <= 0: do not wait). Returns ``[(key, events), ...]``. A switch point."""
        if self._map is None:
            raise RuntimeError("selector is closed")
        ms: float | None
        if timeout is None:
            ms = None
        elif timeout <= 0:
            ms = 0
        else:
            # Round up so a short timeout is never a busy loop.
            ms = -(-timeout * 1000.0 // 1)
        ready = []
        for fd, revents in self._poller.poll(ms):
            key = self._keys.get(fd)
            if key is None:
                continue
            # As the standard library's poll selector: anything but POLLOUT counts as
            # readable, anything but POLLIN as writable (errors wake both sides).
            events = 0
            if revents & ~_POLLOUT:
                events |= EVENT_READ
            if revents & ~_POLLIN:
                events |= EVENT_WRITE
            events &= key.events
            if events:
                ready.append((key, events))
        return ready

    def close(self) -> None:
        self._keys.clear()
        self._map = None
        # Closed: every method checks _map before it touches the poller.
        self._poller = None  # type: ignore[assignment]

    def get_map(self):
        return self._map


DefaultSelector = GeventSelector


_saved: dict = {}


def _gevent_did_monkey_patch(target_module, *args, **kwargs) -> None:
    """Called by ``gevent.monkey`` after patching ``selectors``.

    Code that bound a selector class before patching (``socketserver`` keeps
    ``selectors.PollSelector``) must not block the hub: the standard poll and select selectors
    are pointed at the cooperative ``poll``/``select``, which they bound when ``selectors``
    was imported.
    """
    from . import select as gselect

    poll_selector = getattr(target_module, "PollSelector", None)
    if poll_selector is not None and "PollSelector" not in _saved:
        _saved["PollSelector"] = poll_selector._selector_cls
        poll_selector._selector_cls = gselect.poll
    select_selector = getattr(target_module, "SelectSelector", None)
    if select_selector is not None and "SelectSelector" not in _saved:
        _saved["SelectSelector"] = select_selector.__dict__.get("_select")
        if _saved["SelectSelector"] is not None:
            select_selector._select = staticmethod(_select_for_select_selector)


def _select_for_select_selector(rlist, wlist, xlist, timeout=None):
    from .select import select

    return select(rlist, wlist, xlist, timeout)


# As gevent marks it: how code (and gevent's tests) tell that SelectSelector was patched.
_select_for_select_selector._gevent_monkey = True  # type: ignore[attr-defined]


def _gevent_undo_monkey_patch(target_module) -> None:
    if "PollSelector" in _saved:
        target_module.PollSelector._selector_cls = _saved.pop("PollSelector")
    if "SelectSelector" in _saved:
        original = _saved.pop("SelectSelector")
        if original is not None:
            target_module.SelectSelector._select = original
