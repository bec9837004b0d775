"""gevent.events: subscribers, notify, the event classes and interfaces, plugin entry points."""

import os
import subprocess
import sys
import textwrap

import pytest

from gevent import events

zope_event = pytest.importorskip("zope.event")
zope_interface = pytest.importorskip("zope.interface")
from zope.interface.verify import verifyObject  # noqa: E402

# Every name gevent 26 documents in gevent.events.
DOCUMENTED = [
    "subscribers", "notify", "notify_and_call_entry_points",
    "IEventLoopBlocked", "EventLoopBlocked",
    "IMemoryUsageThresholdExceeded", "MemoryUsageThresholdExceeded",
    "IMemoryUsageUnderThreshold", "MemoryUsageUnderThreshold",
    "IPeriodicMonitorThread", "IPeriodicMonitorThreadStartedEvent",
    "PeriodicMonitorThreadStartedEvent",
    "IGeventPatchEvent", "GeventPatchEvent",
    "IGeventWillPatchEvent", "DoNotPatch", "GeventWillPatchEvent",
    "IGeventDidPatchEvent", "GeventDidPatchEvent",
    "IGeventWillPatchModuleEvent", "GeventWillPatchModuleEvent",
    "IGeventDidPatchModuleEvent", "GeventDidPatchModuleEvent",
    "IGeventWillPatchAllEvent", "GeventWillPatchAllEvent",
    "IGeventDidPatchBuiltinModulesEvent", "GeventDidPatchBuiltinModulesEvent",
    "IGeventDidPatchAllEvent", "GeventDidPatchAllEvent",
]

ENTRY_POINTS = {
    "PeriodicMonitorThreadStartedEvent": "gevent.plugins.hub.periodic_monitor_thread_started",
    "GeventWillPatchModuleEvent": "gevent.plugins.monkey.will_patch_module",
    "GeventDidPatchModuleEvent": "gevent.plugins.monkey.did_patch_module",
    "GeventWillPatchAllEvent": "gevent.plugins.monkey.will_patch_all",
    "GeventDidPatchBuiltinModulesEvent": "gevent.plugins.monkey.did_patch_builtins",
    "GeventDidPatchAllEvent": "gevent.plugins.monkey.did_patch_all",
}


@pytest.fixture
def recorded():
    """Subscribe a recorder for the test's duration."""
    seen = []
    events.subscribers.append(seen.append)
    try:
        yield seen
    finally:
        events.subscribers.remove(seen.append)


def sample_events():
    """One instance of each event class, with the interface it must provide."""
    return [
        (events.EventLoopBlocked("g", 0.5, ["line"], hub="hub"), events.IEventLoopBlocked),
        (events.MemoryUsageThresholdExceeded(10, 5, ("info",)),
         events.IMemoryUsageThresholdExceeded),
        (events.MemoryUsageUnderThreshold(4, 5, ("info",), 10), events.IMemoryUsageUnderThreshold),
        (events.PeriodicMonitorThreadStartedEvent("monitor"),
         events.IPeriodicMonitorThreadStartedEvent),
        (events.GeventPatchEvent("s", "t"), events.IGeventPatchEvent),
        (events.GeventWillPatchEvent("s", "t"), events.IGeventWillPatchEvent),
        (events.GeventDidPatchEvent("s", "t"), events.IGeventDidPatchEvent),
        (events.GeventWillPatchModuleEvent("socket", "s", "t", ["socket"]),
         events.IGeventWillPatchModuleEvent),
        (events.GeventDidPatchModuleEvent("socket", "s", "t"), events.IGeventDidPatchModuleEvent),
        (events.GeventWillPatchAllEvent({"socket": True}, {}), events.IGeventWillPatchAllEvent),
        (events.GeventDidPatchBuiltinModulesEvent({"socket": True}, {}),
         events.IGeventDidPatchBuiltinModulesEvent),
        (events.GeventDidPatchAllEvent({"socket": True}, {}), events.IGeventDidPatchAllEvent),
    ]


def test_public_names():
    assert sorted(events.__all__) == sorted(DOCUMENTED)
    for name in DOCUMENTED:
        assert hasattr(events, name), name


def test_subscribers_is_zope_event_list():
    assert events.subscribers is zope_event.subscribers


def test_notify_calls_subscribers_in_order(recorded):
    order = []
    first = lambda event: order.append(("first", event))
    second = lambda event: order.append(("second", event))
    events.subscribers.extend([first, second])
    try:
        events.notify("an event")
    finally:
        events.subscribers.remove(first)
        events.subscribers.remove(second)
    assert recorded == ["an event"]
    assert order == [("first", "an event"), ("second", "an event")]


def test_zope_notify_reaches_our_subscribers_and_back(recorded):
    zope_event.notify("from zope")
    assert recorded == ["from zope"]


def test_notify_and_subscribers_are_zope_events_own():
    # As in gevent: with zope.event installed, both names are zope.event's objects.
    assert events.subscribers is zope_event.subscribers
    assert events.notify is zope_event.notify


def test_subscriber_may_unsubscribe_itself(recorded):
    calls = []

    def once(event):
        calls.append(event)
        events.subscribers.remove(once)

    events.subscribers.append(once)  # last: zope.event's notify walks the live list
    events.notify(1)
    events.notify(2)
    assert calls == [1]
    assert recorded == [1, 2]


def test_subscriber_exception_propagates_and_stops():
    after = []

    def veto(event):
        raise events.DoNotPatch

    events.subscribers.extend([veto, after.append])
    try:
        with pytest.raises(events.DoNotPatch):
            events.notify("x")
    finally:
        events.subscribers.remove(veto)
        events.subscribers.remove(after.append)
    assert after == []
    assert issubclass(events.DoNotPatch, BaseException)
    assert not issubclass(events.DoNotPatch, Exception)


def test_classes_implement_and_verify_their_interfaces():
    for event, interface in sample_events():
        assert isinstance(interface, zope_interface.interface.InterfaceClass)
        assert interface.providedBy(event), (event, interface)
        assert verifyObject(interface, event)


def test_interface_hierarchy():
    assert events.IGeventWillPatchEvent.extends(events.IGeventPatchEvent)
    assert events.IGeventDidPatchEvent.extends(events.IGeventPatchEvent)
    assert events.IGeventWillPatchModuleEvent.extends(events.IGeventWillPatchEvent)
    assert events.IGeventDidPatchModuleEvent.extends(events.IGeventDidPatchEvent)
    assert events.IGeventWillPatchAllEvent.extends(events.IGeventWillPatchEvent)
    assert events.IGeventDidPatchBuiltinModulesEvent.extends(events.IGeventDidPatchEvent)
    assert events.IGeventDidPatchAllEvent.extends(events.IGeventDidPatchEvent)
    assert "add_monitoring_function" in events.IPeriodicMonitorThread.names()
    assert set(events.IEventLoopBlocked.names()) == {"greenlet", "blocking_time", "info", "hub"}
    assert set(events.IMemoryUsageUnderThreshold.names()) == {
        "mem_usage", "max_allowed", "max_memory_usage", "memory_info"}
    assert set(events.IGeventWillPatchModuleEvent.names()) == {"module_name", "target_item_names"}


def test_class_hierarchy():
    assert issubclass(events.GeventWillPatchModuleEvent, events.GeventWillPatchEvent)
    assert issubclass(events.GeventDidPatchModuleEvent, events.GeventDidPatchEvent)
    assert issubclass(events.GeventWillPatchAllEvent, events.GeventWillPatchEvent)
    assert issubclass(events.GeventDidPatchAllEvent, events.GeventDidPatchEvent)
    assert issubclass(events.GeventDidPatchBuiltinModulesEvent, events.GeventDidPatchEvent)
    for cls in (events.GeventWillPatchEvent, events.GeventDidPatchEvent):
        assert issubclass(cls, events.GeventPatchEvent)


def test_monitoring_event_attributes():
    blocked = events.EventLoopBlocked("g", 0.25, ["a"])
    assert (blocked.greenlet, blocked.blocking_time, blocked.info, blocked.hub) == (
        "g", 0.25, ["a"], None)
    with pytest.raises(TypeError):
        events.EventLoopBlocked("g", 0.25, ["a"], "positional hub")
    over = events.MemoryUsageThresholdExceeded(10, 5, "details")
    assert (over.mem_usage, over.max_allowed, over.memory_info) == (10, 5, "details")
    assert "used=10" in repr(over) and "max=5" in repr(over)
    under = events.MemoryUsageUnderThreshold(4, 5, "details", 10)
    assert (under.mem_usage, under.max_allowed, under.memory_info) == (4, 5, "details")
    assert under.max_memory_usage == 10
    assert events.PeriodicMonitorThreadStartedEvent("m").monitor == "m"


def test_patch_event_attributes():
    will = events.GeventWillPatchModuleEvent("socket", "src", "dst", ["a", "b"])
    assert (will.module_name, will.source, will.target, will.target_item_names) == (
        "socket", "src", "dst", ["a", "b"])
    did = events.GeventDidPatchModuleEvent("socket", "src", "dst")
    assert (did.module_name, did.source, did.target) == ("socket", "src", "dst")
    assert "source='src'" in repr(did)


def test_patch_all_events():
    arguments = {"socket": True, "thread": False}
    kwargs = {"extra": 1}
    for cls in (events.GeventWillPatchAllEvent, events.GeventDidPatchBuiltinModulesEvent,
                events.GeventDidPatchAllEvent):
        event = cls(arguments, kwargs)
        assert event.source is None and event.target is None
        assert event.patch_all_arguments == arguments
        assert event.patch_all_kwargs == kwargs
        # Copies: subscribers cannot change what patch_all was asked for.
        event.patch_all_arguments["socket"] = False
        event.patch_all_kwargs.clear()
        assert arguments["socket"] is True and kwargs == {"extra": 1}
    will = events.GeventWillPatchAllEvent(arguments, kwargs)
    assert will.will_patch_module("socket") is True
    assert will.will_patch_module("thread") is False
    assert will.will_patch_module("nosuch") is False


def test_entry_point_names():
    for name, group in ENTRY_POINTS.items():
        assert getattr(events, name).ENTRY_POINT_NAME == group


def test_zope_classhandler_dispatches_on_our_classes():
    classhandler = pytest.importorskip("zope.event.classhandler")
    seen = []

    @classhandler.handler(events.GeventDidPatchModuleEvent)
    def on_did_patch(event):
        seen.append(event.module_name)

    try:
        events.notify(events.GeventDidPatchModuleEvent("socket", None, None))
        events.notify(events.GeventWillPatchModuleEvent("ssl", None, None, []))
    finally:
        # classhandler installs one dispatcher in the subscribers list; leave it, but
        # drop our registration so other tests are unaffected.
        classhandler.registry.pop(events.GeventDidPatchModuleEvent, None)
    assert seen == ["socket"]


def run_python(code, **env):
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=30, env=full_env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_plugins_are_called_through_entry_points(tmp_path):
    # A real (if minimal) installed distribution: a .dist-info with entry_points.txt.
    dist = tmp_path / "gevent_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gevent-test-plugin\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[gevent.plugins.monkey.will_patch_all]\n"
        "first = gevent_test_plugin:on_will_patch_all\n"
        "[gevent.plugins.monkey.did_patch_module]\n"
        "second = gevent_test_plugin:on_did_patch_module\n"
    )
    (tmp_path / "gevent_test_plugin.py").write_text(
        "calls = []\n"
        "def on_will_patch_all(event):\n"
        "    calls.append(('will_patch_all', event.will_patch_module('socket')))\n"
        "def on_did_patch_module(event):\n"
        "    calls.append(('did_patch_module', event.module_name))\n"
    )
    code = f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from gevent import events
        import gevent_test_plugin
        order = []
        events.subscribers.append(lambda event: order.append(type(event).__name__))
        will = events.GeventWillPatchAllEvent({{'socket': True}}, {{}})
        events.notify_and_call_entry_points(will)
        events.notify_and_call_entry_points(events.GeventDidPatchModuleEvent('ssl', None, None))
        events.notify_and_call_entry_points(events.GeventDidPatchAllEvent({{}}, {{}}))
        print(order)
        print(gevent_test_plugin.calls)
    """
    lines = run_python(code).splitlines()
    assert lines == [
        "['GeventWillPatchAllEvent', 'GeventDidPatchModuleEvent', 'GeventDidPatchAllEvent']",
        "[('will_patch_all', True), ('did_patch_module', 'ssl')]",
    ]


def test_without_zope_installed():
    code = """
        import sys
        # Make both zope packages unimportable, as on an install without them.
        for name in ('zope', 'zope.event', 'zope.interface'):
            sys.modules[name] = None
        from gevent import events
        assert isinstance(events.subscribers, list) and events.subscribers == []
        seen = []
        events.subscribers.append(seen.append)
        events.notify(1)
        assert seen == [1]
        for name in events.__all__:
            assert hasattr(events, name), name
        assert type(events.IEventLoopBlocked) is type
        blocked = events.EventLoopBlocked('g', 1.0, [], hub='h')
        assert blocked.hub == 'h'
        will = events.GeventWillPatchModuleEvent('socket', 's', 't', ['x'])
        assert isinstance(will, events.GeventWillPatchEvent)
        assert events.IGeventWillPatchModuleEvent.__doc__
        assert issubclass(events.IGeventWillPatchModuleEvent, events.IGeventPatchEvent)
        events.notify_and_call_entry_points(events.GeventDidPatchAllEvent({}, {}))
        print('ok')
    """
    assert run_python(code).strip() == "ok"
