# Theory of operation: the ``selectors`` object an EventLoop gives asyncio, fed by the hub's poll.
#
# asyncio's selector event loop keeps its readers and writers in ``loop._selector``
# (``register``/``modify``/``unregister``/``get_key``/``get_map``) and its transports and sock_*
# methods go through that. Here every registered fd gets one *direct handler* in the hub loop
# (``Loop._direct_set``): when the hub's poll reports the fd, the loop calls the handler, which
# puts the reader or writer Handle on the loop's ready queue, exactly what ``_process_events``
# does after a select. No watcher object sits in between (the cheapest path the poll has, beside
# the sockets' fast wait), and the registration is kept exact, as a selector's is. The hub's
# poller is the only poller: ``select()`` is never called.
#
# A loop that is not processing handles must not make the hub spin: a level-triggered fd that stays
# readable would fire on every poll. So an fd that fires while its loop is not running is
# unregistered and remembered; ``resume()`` registers those again when the loop runs again.

from __future__ import annotations

import selectors
from collections.abc import Mapping

from ._core._io_common import READ, WRITE

__all__ = ["HubSelector"]

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE
assert (EVENT_READ, EVENT_WRITE) == (READ, WRITE)
_fileobj_to_fd = getattr(selectors, "_fileobj_to_fd")  # noqa: B009 (not in the stubs)


class _Entry:
    """One registered fd: its key, and the handler the hub's poll calls directly."""

    __slots__ = ("key", "selector", "loop", "paused")

    def __init__(self, selector, key) -> None:
        self.selector = selector
        self.loop = selector._loop
        self.key = key
        self.paused = False

    def apply(self, events: int, first: bool = False) -> None:
        # EVENT_READ/EVENT_WRITE are the hub's READ/WRITE bits (checked at import).
        self.paused = False
        self.selector._hub_loop._direct_set(self.key.fd, self.on_events, events, first)

    def stop(self) -> None:
        self.selector._hub_loop._direct_set(self.key.fd, None, 0)

    def on_events(self, revents: int) -> None:
        # Called from the hub's poll: what asyncio's _process_events does after a select.
        loop = self.loop
        if not loop._active:
            # Nobody runs the loop: a level-triggered fd would fire on every poll.
            self.stop()
            self.paused = True
            self.selector._paused.add(self)
            return
        key = self.key
        fired = revents & key.events
        reader, writer = key.data
        if fired & EVENT_READ and reader is not None:
            if reader._cancelled:
                loop._remove_reader(key.fd)
            else:
                loop._ready.append(reader)
        if fired & EVENT_WRITE and writer is not None:
            if writer._cancelled:
                loop._remove_writer(key.fd)
            else:
                loop._ready.append(writer)
        if loop._batch_entry is None and loop._ready:
            loop._schedule_batch(True)  # the hub is polling: the batch runs right after


class _Map(Mapping):
    __slots__ = ("_entries",)

    def __init__(self, entries: dict) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def __getitem__(self, fileobj):
        try:
            fd = fileobj if type(fileobj) is int else _fileobj_to_fd(fileobj)
        except ValueError:
            raise KeyError(fileobj) from None
        return self._entries[fd].key


class HubSelector(selectors.BaseSelector):
    """A selector whose registrations are hub io watchers that feed one EventLoop."""

    def __init__(self, loop) -> None:
        self._loop = loop
        self._hub_loop = loop._hub_loop
        self._entries: dict[int, _Entry] = {}
        self._map = _Map(self._entries)
        self._paused: set[_Entry] = set()

    def _entry(self, fileobj) -> _Entry:
        try:
            fd = fileobj if type(fileobj) is int else _fileobj_to_fd(fileobj)
            return self._entries[fd]
        except (KeyError, ValueError):
            raise KeyError(f"{fileobj!r} is not registered") from None

    def register(self, fileobj, events, data=None):
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        fd = _fileobj_to_fd(fileobj)
        if fd in self._entries:
            raise KeyError(f"{fileobj!r} (FD {fd}) is already registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        entry = self._entries[fd] = _Entry(self, key)
        try:
            entry.apply(events, first=True)
        except BaseException:
            del self._entries[fd]
            raise
        return key

    def unregister(self, fileobj):
        entry = self._entry(fileobj)
        del self._entries[entry.key.fd]
        self._paused.discard(entry)
        entry.stop()
        return entry.key

    def modify(self, fileobj, events, data=None):
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        entry = self._entry(fileobj)
        key = entry.key
        if events != key.events:
            entry.apply(events)
        if events != key.events or data is not key.data:
            key = entry.key = key._replace(events=events, data=data)
        return key

    def select(self, timeout=None):
        raise RuntimeError("the hub polls for this selector; select() is never called")

    def get_key(self, fileobj):
        return self._entry(fileobj).key

    def get_map(self):
        return self._map

    def resume(self) -> None:
        """The loop runs again: restart the watchers that fired while it did not."""
        paused = self._paused
        if paused:
            self._paused = set()
            for entry in paused:
                if entry.paused and self._entries.get(entry.key.fd) is entry:  # still registered
                    entry.apply(entry.key.events)

    def close(self) -> None:
        for entry in self._entries.values():
            entry.stop()
        self._entries.clear()
        self._paused.clear()
