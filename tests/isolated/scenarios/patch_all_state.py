"""patch_all(): the seams are gevent's, originals stay reachable, a second call is harmless."""

import warnings

warnings.simplefilter("error")  # patching a fresh interpreter must not warn

events_seen = []


def subscriber(event):
    events_seen.append(type(event).__name__ + ":" + str(getattr(event, "module_name", "")))


from gevent import events  # noqa: E402

events.subscribers.append(subscriber)

from gevent import monkey  # noqa: E402

native_sleep = __import__("time").sleep
assert monkey.patch_all() is True

import _thread  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import select  # noqa: E402
import selectors  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.os  # noqa: E402
import gevent.queue  # noqa: E402
import gevent.select  # noqa: E402
import gevent.selectors  # noqa: E402
import gevent.signal  # noqa: E402
import gevent.socket  # noqa: E402
import gevent.ssl  # noqa: E402
import gevent.subprocess  # noqa: E402
import gevent.thread  # noqa: E402

assert socket.socket is gevent.socket.socket  # kombu checks exactly this
assert select.select is gevent.select.select
assert selectors.DefaultSelector is gevent.selectors.DefaultSelector
assert time.sleep is gevent.sleep or time.sleep.__module__.startswith("gevent")
assert subprocess.Popen is gevent.subprocess.Popen
assert os.fork is gevent.os.fork
assert signal.signal is gevent.signal.signal
assert queue.SimpleQueue is gevent.queue.SimpleQueue
assert _thread.allocate_lock is gevent.thread.allocate_lock
assert _thread.start_new_thread is gevent.thread.start_new_thread
assert threading.Lock is gevent.thread.LockType
assert ssl.SSLContext is gevent.ssl.SSLContext
for name in gevent.ssl.__implements__:
    assert getattr(ssl, name) is getattr(gevent.ssl, name), name
assert not hasattr(select, "epoll") and not hasattr(selectors, "EpollSelector")

for module in ("socket", "select", "selectors", "time", "ssl", "subprocess", "os", "signal",
               "queue", "_thread", "threading"):
    assert monkey.is_module_patched(module), module
assert monkey.is_object_patched("socket", "socket")
assert not monkey.is_object_patched("socket", "no-such-name")
assert monkey.is_anything_patched()
assert not monkey.is_module_patched("sys")  # sys=False by default

# get_original gives the real things back, one or several at a time
assert monkey.get_original("time", "sleep") is native_sleep
real_socket, real_socketpair = monkey.get_original("socket", ["socket", "socketpair"])
real_select = monkey.get_original("select", "select")
assert real_socketpair.__module__ == "socket"
assert real_socket is not socket.socket and real_socket.__module__ == "socket"
assert real_select is not select.select
assert monkey.get_original("select", ["epoll"])[0] is not None  # removed, still reachable
assert monkey.get_original("os", "getpid") is os.getpid  # never patched: the current one

# the events arrived in gevent's documented order
assert events_seen[0] == "GeventWillPatchAllEvent:", events_seen
assert events_seen[-2:] == ["GeventDidPatchBuiltinModulesEvent:", "GeventDidPatchAllEvent:"]
assert "GeventWillPatchModuleEvent:socket" in events_seen
assert "GeventDidPatchModuleEvent:socket" in events_seen
assert events_seen.index("GeventWillPatchModuleEvent:socket") < \
    events_seen.index("GeventDidPatchModuleEvent:socket")

# a second, identical patch_all changes nothing and says nothing
before = {name: dict(items) for name, items in monkey.saved.items()}
count = len(events_seen)
monkey.patch_all()
assert len(events_seen) == count
assert {name: dict(items) for name, items in monkey.saved.items()} == before
assert monkey.get_original("time", "sleep") is native_sleep

# different arguments warn once; as in gevent, only turning on a module not patched before
# does anything (and sends events). The union is kept in saved, under gevent's key.
settings_key = "_gevent_saved_patch_all_module_settings"
assert monkey.saved[settings_key]["socket"] is True and monkey.saved[settings_key]["sys"] is False
count = len(events_seen)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    monkey.patch_all(subprocess=False, extra_kwarg=42)
messages = [str(w.message) for w in caught]
assert len(messages) == 1 and "more than once" in messages[0] and "union" in messages[0], messages
assert len(events_seen) == count, events_seen[count:]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    monkey.patch_all(socket=False, sys=True)
assert len(caught) == 1 and "more than once" in str(caught[0].message)
assert events_seen[count] == "GeventWillPatchAllEvent:", events_seen[count:]
assert monkey.saved[settings_key]["sys"] is True and monkey.saved[settings_key]["socket"]

# the standard select and poll selectors (bound by code such as socketserver before
# patching) wait on the hub; SelectSelector's is marked as gevent marks it
assert "_gevent_monkey" in dir(selectors.SelectSelector._select)
for selector_class in (selectors.SelectSelector, selectors.PollSelector):
    r, w = os.pipe()
    with selector_class() as sel:
        sel.register(r, selectors.EVENT_READ)
        writer = gevent.spawn_later(0.05, os.write, w, b"x")
        assert [key.fd for key, _ in sel.select(5)] == [r]
        writer.join()
    os.close(r)
    os.close(w)

# the blocking functions now cooperate: two sleeps overlap
start = time.monotonic()
gevent.joinall([gevent.spawn(time.sleep, 0.2) for _ in range(5)], timeout=5)
assert time.monotonic() - start < 0.6
print("OK")
