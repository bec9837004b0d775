"""A will-patch subscriber raising DoNotPatch skips that module; on patch_all, everything."""

import sys

from gevent import events, monkey

mode = sys.argv[1]


def veto_socket(event):
    if isinstance(event, events.GeventWillPatchModuleEvent) and event.module_name == "socket":
        raise events.DoNotPatch


def veto_all(event):
    if isinstance(event, events.GeventWillPatchAllEvent):
        assert event.will_patch_module("socket") and not event.will_patch_module("sys")
        raise events.DoNotPatch


def drop_sleep(event):
    # subscribers may edit the list of names to patch
    if isinstance(event, events.GeventWillPatchModuleEvent) and event.module_name == "time":
        event.target_item_names.remove("sleep")


if mode == "module":
    events.subscribers.append(veto_socket)
    assert monkey.patch_all() is True
    import socket
    import time

    assert not monkey.is_module_patched("socket")
    assert socket.socket.__module__ == "socket"
    assert monkey.is_module_patched("time") and time.sleep.__module__.startswith("gevent")
elif mode == "all":
    events.subscribers.append(veto_all)
    assert monkey.patch_all() is False
    assert not monkey.is_anything_patched()
    # The vetoed call is forgotten: once the veto is gone, patch_all() patches.
    events.subscribers.remove(veto_all)
    assert monkey.patch_all() is True
    assert monkey.is_module_patched("socket")
elif mode == "items":
    events.subscribers.append(drop_sleep)
    monkey.patch_time()
    import time

    assert time.sleep is monkey.get_original("time", "sleep")
    assert not monkey.is_object_patched("time", "sleep")
print("OK")
