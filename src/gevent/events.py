"""Events gevent publishes, and the list of functions subscribed to them.

Some things that happen in a gevent process are worth telling other code about: the event
loop stayed blocked too long, memory use crossed a threshold, a monitoring thread started,
monkey-patching is about to happen or has happened. gevent describes each of these with an
event object and passes it to :func:`notify`, which calls every function in
:data:`subscribers` with it.

When :mod:`zope.event` is installed, :data:`subscribers` *is* ``zope.event.subscribers``
(the same list object), so frameworks built on it (``zope.event.classhandler``,
``zope.component``) see gevent's events. When :mod:`zope.interface` is installed, the ``I*``
names are real interfaces and each event class declares the interface it implements;
without it they are plain classes with the same names and attributes.

Some events are also delivered to plugins: :func:`notify_and_call_entry_points` calls every
``importlib.metadata`` entry point registered in the group named by the event's
``ENTRY_POINT_NAME`` (for instance ``gevent.plugins.monkey.will_patch_all``) with the event.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

__all__ = [
    "subscribers",
    "notify",
    "notify_and_call_entry_points",
    # monitoring
    "IEventLoopBlocked",
    "EventLoopBlocked",
    "IMemoryUsageThresholdExceeded",
    "MemoryUsageThresholdExceeded",
    "IMemoryUsageUnderThreshold",
    "MemoryUsageUnderThreshold",
    "IPeriodicMonitorThread",
    "IPeriodicMonitorThreadStartedEvent",
    "PeriodicMonitorThreadStartedEvent",
    # monkey-patching
    "IGeventPatchEvent",
    "GeventPatchEvent",
    "IGeventWillPatchEvent",
    "DoNotPatch",
    "GeventWillPatchEvent",
    "IGeventDidPatchEvent",
    "GeventDidPatchEvent",
    "IGeventWillPatchModuleEvent",
    "GeventWillPatchModuleEvent",
    "IGeventDidPatchModuleEvent",
    "GeventDidPatchModuleEvent",
    "IGeventWillPatchAllEvent",
    "GeventWillPatchAllEvent",
    "IGeventDidPatchBuiltinModulesEvent",
    "GeventDidPatchBuiltinModulesEvent",
    "IGeventDidPatchAllEvent",
    "GeventDidPatchAllEvent",
]

try:
    from zope.event import subscribers as _zope_subscribers
except ImportError:
    _zope_subscribers = None

#: The functions called, in order, with each event passed to :func:`notify`.
#: Append to it to subscribe, remove from it to unsubscribe. This is
#: ``zope.event.subscribers`` itself when :mod:`zope.event` is installed.
subscribers: list[Callable[[Any], Any]] = (
    _zope_subscribers if _zope_subscribers is not None else []
)

try:
    from zope.interface import Attribute, Interface, implementer
except ImportError:

    class Interface:  # type: ignore[no-redef]
        """Stands in for ``zope.interface.Interface`` when zope.interface is missing."""

    class Attribute:  # type: ignore[no-redef]
        """Stands in for ``zope.interface.Attribute``: only carries the documentation."""

        def __init__(self, doc: str) -> None:
            self.__doc__ = doc

        def __repr__(self) -> str:
            return f"<Attribute {self.__doc__!r}>"

    def implementer(*interfaces: Any) -> Callable[[type], type]:  # type: ignore[no-redef]
        """Without zope.interface there is nothing to declare."""
        return lambda cls: cls


def notify(event: Any) -> None:
    """Call every function in :data:`subscribers` with *event*, in order.

    A subscriber's exception propagates to the caller and the remaining subscribers are not
    called (this is how a will-patch subscriber vetoes with :class:`DoNotPatch`). The list
    is copied first, so a subscriber may unsubscribe itself while being called.
    """
    for subscriber in tuple(subscribers):
        subscriber(event)


if _zope_subscribers is not None:
    # With zope.event installed, notify *is* zope.event.notify (as in gevent): one function
    # whoever imports it, calling the same list.
    from zope.event import notify  # type: ignore[no-redef]  # noqa: F811


def _plugins(group: str) -> list[Any]:
    found = entry_points(group=group)
    seen: set[tuple[str, str]] = set()
    unique = []
    # A distribution can be visible twice (e.g. an editable install also on sys.path);
    # a plugin must still run once.
    for entry_point in found:
        key = (entry_point.name, entry_point.value)
        if key not in seen:
            seen.add(key)
            unique.append(entry_point)
    return unique


def notify_and_call_entry_points(event: Any) -> None:
    """Notify :data:`subscribers` of *event*, then call each plugin registered for it.

    The plugins are the ``importlib.metadata`` entry points in the group named by
    ``event.ENTRY_POINT_NAME``; each is loaded and called with *event*. Exceptions (including
    :class:`DoNotPatch`) propagate to the caller.
    """
    notify(event)
    for entry_point in _plugins(event.ENTRY_POINT_NAME):
        plugin = entry_point.load()
        plugin(event)


# -- monitoring ----------------------------------------------------------------------------


class IPeriodicMonitorThread(Interface):
    """The monitoring thread a hub starts (``Hub.start_periodic_monitoring_thread()``)."""

    def add_monitoring_function(function, period):  # type: ignore[no-untyped-def]
        """Call *function(hub)* about every *period* seconds, in the monitoring thread.

        The function runs in a native thread, not the hub's, so it must not use gevent's
        blocking API. Adding a function again changes its period; a *period* of None
        removes it; a period of zero or less is an error.
        """


class IPeriodicMonitorThreadStartedEvent(Interface):
    """Emitted when a hub starts its monitoring thread; add your own checks here."""

    monitor = Attribute("The IPeriodicMonitorThread that started.")


@implementer(IPeriodicMonitorThreadStartedEvent)
class PeriodicMonitorThreadStartedEvent:
    """A hub started its monitoring thread (*monitor*)."""

    #: Plugins registered in this entry point group are called with the event.
    ENTRY_POINT_NAME = "gevent.plugins.hub.periodic_monitor_thread_started"

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor

    def __repr__(self) -> str:
        return f"<{type(self).__name__} monitor={self.monitor!r}>"


class IEventLoopBlocked(Interface):
    """Emitted, from the monitoring thread, when a hub's loop has not run for too long."""

    greenlet = Attribute("The greenlet that was running while the loop was blocked.")
    blocking_time = Attribute("Roughly how long, in seconds, the loop has been blocked.")
    info = Attribute("A list of lines of text describing the block; subscribers may edit it.")
    hub = Attribute("The hub that was blocked, or None.")


@implementer(IEventLoopBlocked)
class EventLoopBlocked:
    """The event loop of *hub* was blocked for *blocking_time* seconds by *greenlet*."""

    def __init__(
        self, greenlet: Any, blocking_time: float, info: list[str], *, hub: Any = None
    ) -> None:
        self.greenlet = greenlet
        self.blocking_time = blocking_time
        self.info = info
        self.hub = hub

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} greenlet={self.greenlet!r} "
            f"blocking_time={self.blocking_time!r} hub={self.hub!r}>"
        )


class IMemoryUsageThresholdExceeded(Interface):
    """Emitted, from the monitoring thread, while memory use is above ``max_memory_usage``.

    It is emitted again only after usage has gone back under the threshold.
    """

    mem_usage = Attribute("The process's memory usage, in bytes.")
    max_allowed = Attribute("The configured maximum, in bytes.")
    memory_info = Attribute("The memory statistics the measurement came from.")


class IMemoryUsageUnderThreshold(Interface):
    """Emitted, from the monitoring thread, the first time memory use is measured back
    under ``max_memory_usage`` after having exceeded it."""

    mem_usage = Attribute("The process's memory usage, in bytes.")
    max_allowed = Attribute("The configured maximum, in bytes.")
    max_memory_usage = Attribute("The usage reported by the previous threshold-exceeded event.")
    memory_info = Attribute("The memory statistics the measurement came from.")


class _MemoryEvent:
    def __init__(self, mem_usage: int, max_allowed: int, memory_info: Any) -> None:
        self.mem_usage = mem_usage
        self.max_allowed = max_allowed
        self.memory_info = memory_info

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} used={self.mem_usage!r} max={self.max_allowed!r} "
            f"details={self.memory_info!r}>"
        )


@implementer(IMemoryUsageThresholdExceeded)
class MemoryUsageThresholdExceeded(_MemoryEvent):
    """Memory use (*mem_usage* bytes) is above the allowed *max_allowed* bytes."""


@implementer(IMemoryUsageUnderThreshold)
class MemoryUsageUnderThreshold(_MemoryEvent):
    """Memory use is back under *max_allowed*; it had reached *max_usage*."""

    def __init__(
        self, mem_usage: int, max_allowed: int, memory_info: Any, max_usage: int
    ) -> None:
        super().__init__(mem_usage, max_allowed, memory_info)
        self.max_memory_usage = max_usage


# -- monkey-patching -----------------------------------------------------------------------


class IGeventPatchEvent(Interface):
    """The base of every monkey-patching event."""

    source = Attribute("What the patches come from (a gevent module, for module events).")
    target = Attribute("What is being patched (a stdlib module, for module events).")


class IGeventWillPatchEvent(IGeventPatchEvent):
    """Emitted *before* something is patched; a subscriber raising DoNotPatch prevents it."""


class IGeventDidPatchEvent(IGeventPatchEvent):
    """Emitted *after* something has been patched."""


class IGeventWillPatchModuleEvent(IGeventWillPatchEvent):
    """Emitted before one module is patched; *source* and *target* are modules."""

    module_name = Attribute("The name of the module patched (``target.__name__``).")
    target_item_names = Attribute(
        "The names of the items to patch; a subscriber may change this list, carefully."
    )


class IGeventDidPatchModuleEvent(IGeventDidPatchEvent):
    """Emitted after one module has been patched."""

    module_name = Attribute("The name of the module patched (``target.__name__``).")


class IGeventWillPatchAllEvent(IGeventWillPatchEvent):
    """Emitted before ``patch_all`` patches anything; DoNotPatch cancels all patching.

    Then come will/did-patch-module events for each module, a did-patch-builtin-modules
    event, and finally a did-patch-all event. *source* and *target* are undefined.
    """

    patch_all_arguments = Attribute("A copy of the arguments patch_all was called with (a dict).")
    patch_all_kwargs = Attribute("A copy of the extra keyword arguments to patch_all (a dict).")

    def will_patch_module(module_name):  # type: ignore[no-untyped-def]
        """Return whether patch_all will patch the module called *module_name*."""


class IGeventDidPatchBuiltinModulesEvent(IGeventDidPatchEvent):
    """Emitted once gevent's own modules are patched: the time to patch third-party ones.

    *source* and *target* are undefined.
    """

    patch_all_arguments = Attribute("A copy of the arguments patch_all was called with (a dict).")
    patch_all_kwargs = Attribute("A copy of the extra keyword arguments to patch_all (a dict).")


class IGeventDidPatchAllEvent(IGeventDidPatchEvent):
    """Emitted after every module, built in or from plugins, has been patched."""


class DoNotPatch(BaseException):
    """Raised by a will-patch subscriber to say: do not patch this item."""


@implementer(IGeventPatchEvent)
class GeventPatchEvent:
    """Something (*target*) is patched with things from *source*."""

    def __init__(self, source: Any, target: Any) -> None:
        self.source = source
        self.target = target

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} source={self.source!r} target={self.target!r} "
            f"at {id(self):#x}>"
        )


@implementer(IGeventWillPatchEvent)
class GeventWillPatchEvent(GeventPatchEvent):
    """About to patch *target* from *source*."""


@implementer(IGeventDidPatchEvent)
class GeventDidPatchEvent(GeventPatchEvent):
    """Patched *target* from *source*."""


@implementer(IGeventWillPatchModuleEvent)
class GeventWillPatchModuleEvent(GeventWillPatchEvent):
    """About to patch module *target* (named *module_name*) with *items* from *source*."""

    ENTRY_POINT_NAME = "gevent.plugins.monkey.will_patch_module"

    def __init__(self, module_name: str, source: Any, target: Any, items: list[str]) -> None:
        super().__init__(source, target)
        self.module_name = module_name
        self.target_item_names = items


@implementer(IGeventDidPatchModuleEvent)
class GeventDidPatchModuleEvent(GeventDidPatchEvent):
    """Patched module *target* (named *module_name*) from *source*."""

    ENTRY_POINT_NAME = "gevent.plugins.monkey.did_patch_module"

    def __init__(self, module_name: str, source: Any, target: Any) -> None:
        super().__init__(source, target)
        self.module_name = module_name


class _PatchAllMixin:
    # source and target have no meaning for the patch_all events.
    def __init__(self, patch_all_arguments: dict, patch_all_kwargs: dict) -> None:
        super().__init__(None, None)  # type: ignore[call-arg]
        self._patch_all_arguments = patch_all_arguments
        self._patch_all_kwargs = patch_all_kwargs

    @property
    def patch_all_arguments(self) -> dict:
        return dict(self._patch_all_arguments)

    @property
    def patch_all_kwargs(self) -> dict:
        return dict(self._patch_all_kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._patch_all_arguments!r} at {id(self):#x}>"


@implementer(IGeventWillPatchAllEvent)
class GeventWillPatchAllEvent(_PatchAllMixin, GeventWillPatchEvent):
    """``patch_all`` is about to start patching."""

    ENTRY_POINT_NAME = "gevent.plugins.monkey.will_patch_all"

    def will_patch_module(self, module_name: str) -> bool:
        """Whether ``patch_all`` was asked to patch *module_name* (e.g. ``'socket'``)."""
        return bool(self._patch_all_arguments.get(module_name))


@implementer(IGeventDidPatchBuiltinModulesEvent)
class GeventDidPatchBuiltinModulesEvent(_PatchAllMixin, GeventDidPatchEvent):
    """``patch_all`` has patched gevent's own modules."""

    ENTRY_POINT_NAME = "gevent.plugins.monkey.did_patch_builtins"


@implementer(IGeventDidPatchAllEvent)
class GeventDidPatchAllEvent(_PatchAllMixin, GeventDidPatchEvent):
    """``patch_all`` has finished."""

    ENTRY_POINT_NAME = "gevent.plugins.monkey.did_patch_all"

