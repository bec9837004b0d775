"""gevent's run-time configuration: ``gevent.config``.

Each setting has a name (``config.loop``), an environment variable (``GEVENT_LOOP``), a default,
a validator and a description.  Reading ``config.NAME`` returns the validated value; the
environment is consulted lazily, the first time a setting is read, so setting a variable after
``import gevent`` but before the hub starts still works.  Assigning ``config.NAME = value``
validates the value at once and replaces whatever came from the environment.

Settings that name a class (``resolver``, ``threadpool``, ``fileobject``, ``format_context``)
are *importable*: they accept a short alias (``"thread"``), a dotted path
(``"package.module.Class"`` or ``"package.module:Class"``), a comma-separated list or a
sequence of those (the first that imports wins), or the object itself.  The import happens
when the setting is read, never when it is assigned, so a configuration may name modules
that are imported later.

Reads are on hot paths (the greenlet spawn path reads ``track_greenlet_tree``), so a value,
once computed, is cached in the instance ``__dict__`` and later reads are plain attribute
loads; ``__getattr__`` only runs on the first read of each setting.
"""

from __future__ import annotations

import importlib
import os
import select
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Config", "config"]

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class Setting:
    """One configuration setting: its name, environment variable, default and validator.

    Subclasses set the class attributes; each :class:`Config` has its own instances, so
    two configurations never share state.
    """

    #: The attribute name on :class:`Config`.
    name: str = ""
    #: The environment variable read (lazily) for the initial value.
    environment_key: str = ""
    #: The value used when the environment variable is unset or empty.
    default: Any = None
    #: Human-readable description (plain prose).
    desc: str = ""
    #: Whether the setting is listed in documentation (as in gevent; all of ours are).
    document: bool = True

    def __init__(self) -> None:
        self._value: Any = None
        self._has_value = False
        self._invalidate: Callable[[str], None] | None = None

    # -- validation ----------------------------------------------------------------------

    def validate(self, value: Any) -> Any:
        """Return *value* converted to this setting's type, or raise ValueError."""
        return value

    def _error(self, value: Any, expected: str) -> ValueError:
        return ValueError(
            f"Invalid value {value!r} for gevent.config.{self.name} "
            f"(environment variable {self.environment_key}): expected {expected}"
        )

    def _checked(self, value: Any, source: str | None = None) -> Any:
        try:
            return self.validate(value)
        except ValueError as ex:
            if source is None:
                raise
            raise ValueError(f"{ex} [the value came from the environment: {source}={value!r}]")

    # -- value ---------------------------------------------------------------------------

    def _initial(self) -> Any:
        raw = os.environ.get(self.environment_key, "") if self.environment_key else ""
        if raw.strip():
            return self._checked(raw, self.environment_key)
        return self._checked(self.default) if self.default is not None else None

    @property
    def value(self) -> Any:
        """The validated (but, for importables, not yet imported) value."""
        if not self._has_value:
            self._value = self._initial()
            self._has_value = True
        return self._value

    def get(self) -> Any:
        """The value as :class:`Config` returns it (imported, for importable settings)."""
        return self.value

    def set(self, value: Any) -> None:
        """Validate *value* and make it this setting's value."""
        self._value = self._checked(value)
        self._has_value = True
        if self._invalidate is not None:
            self._invalidate(self.name)

    @property
    def full_description(self) -> str:
        """The description, followed by the default and the environment variable."""
        text = textwrap.dedent(self.desc).strip()
        default = self.default
        if isinstance(default, (list, tuple)):
            default = ",".join(default)
        parts = [text] if text else []
        parts.append(f"Default: {default!r}.")
        if self.environment_key:
            parts.append(f"Environment variable: {self.environment_key}.")
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.environment_key})>"


# -- kinds of setting ----------------------------------------------------------------------


class _BoolSetting(Setting):
    default = False

    def validate(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS or word == "":
                return False
        raise self._error(value, "a boolean: 1/0, true/false, yes/no or on/off")


class _FloatSetting(Setting):
    """A positive number of seconds; None only where the default is None."""

    allow_none = False
    #: Extra values accepted besides positive numbers (e.g. -1 meaning "no timeout").
    special: tuple[float, ...] = ()

    def validate(self, value: Any) -> float | None:
        if value is None and (self.allow_none or self.default is None):
            return None
        expected = "a positive number"
        if self.special:
            expected += " or " + " or ".join(repr(s) for s in self.special)
        if self.default is None or self.allow_none:
            expected += " or None"
        if isinstance(value, bool):
            raise self._error(value, expected)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self._error(value, expected) from None
        if number in self.special:
            return number
        if not number > 0 or number != number or number == float("inf"):
            raise self._error(value, expected)
        return number


class _IntSetting(Setting):
    minimum = 0
    maximum: int | None = None

    def validate(self, value: Any) -> int | None:
        if value is None:
            return None
        bounds = f"an integer >= {self.minimum}"
        if self.maximum is not None:
            bounds = f"an integer from {self.minimum} to {self.maximum}"
        if isinstance(value, bool):
            raise self._error(value, bounds)
        try:
            number = int(value.strip(), 0) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise self._error(value, bounds) from None
        if isinstance(value, float) and value != number:
            raise self._error(value, bounds)
        if number < self.minimum or (self.maximum is not None and number > self.maximum):
            raise self._error(value, bounds)
        return number


class _ByteCountSetting(Setting):
    _suffixes = (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024), ("b", 1))

    def validate(self, value: Any) -> int | None:
        if value is None:
            return None
        expected = "a positive number of bytes, optionally with a suffix kb, mb or gb"
        if isinstance(value, bool):
            raise self._error(value, expected)
        multiplier = 1
        if isinstance(value, str):
            text = value.strip().lower()
            for suffix, factor in self._suffixes:
                if text.endswith(suffix):
                    text, multiplier = text[: -len(suffix)].strip(), factor
                    break
            value = text
        try:
            number = float(value) * multiplier
        except (TypeError, ValueError):
            raise self._error(value, expected) from None
        if not number > 0 or number == float("inf"):
            raise self._error(value, expected)
        return int(number)


class _StringListSetting(Setting):
    """A list of strings; in the environment (or a string in code), comma-separated."""

    def validate(self, value: Any) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",")]
        elif isinstance(value, Iterable):
            items = list(value)
        else:
            raise self._error(value, "a list of strings or a comma-separated string")
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise self._error(value, "a list of non-empty strings")
        return [item.strip() for item in items]


class _ImportableSetting(Setting):
    """A class or callable named by alias or dotted path, imported when first read."""

    #: Short names for the usual choices: alias -> "package.module.Attr".
    shortname_map: dict[str, str] = {}

    def validate(self, value: Any) -> Any:
        """Check the *form* of the value; nothing is imported here."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if callable(value) and not isinstance(value, (list, tuple)):
            return value
        if not isinstance(value, (list, tuple)) or not value:
            raise self._error(value, self._expected())
        specs = []
        for item in value:
            if callable(item) and not isinstance(item, str):
                specs.append(item)
                continue
            if not isinstance(item, str) or not item:
                raise self._error(value, self._expected())
            if item in self.shortname_map:
                specs.append(item)
                continue
            path = item.replace(":", ".")
            if "." not in path or not all(part.isidentifier() for part in path.split(".")):
                raise self._error(item, self._expected())
            specs.append(item)
        return specs[0] if len(specs) == 1 and callable(specs[0]) else tuple(specs)

    def _expected(self) -> str:
        aliases = ", ".join(repr(name) for name in self.shortname_map)
        text = "a dotted path 'package.module.Name', a comma-separated list of them"
        if aliases:
            text = f"one of {aliases}, or " + text
        return text + ", or the object itself"

    def _import_one(self, spec: str) -> Any:
        path = self.shortname_map.get(spec, spec)
        if ":" in path:
            module_name, _, attr = path.partition(":")
        else:
            module_name, _, attr = path.rpartition(".")
        module = importlib.import_module(module_name)
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def get(self) -> Any:
        value = self.value
        if callable(value) and not isinstance(value, tuple):
            return value
        failures = []
        for spec in value:
            if callable(spec):
                return spec
            try:
                return self._import_one(spec)
            except (ImportError, AttributeError) as ex:
                failures.append(f"{spec!r}: {type(ex).__name__}: {ex}")
        raise ImportError(
            f"gevent.config.{self.name} (environment variable {self.environment_key}): "
            f"could not import any of {list(value)!r}: " + "; ".join(failures)
        )

    def get_options(self) -> dict[str, Any]:
        """Map each alias to its imported object, or to the exception importing it raised."""
        options: dict[str, Any] = {}
        for alias in self.shortname_map:
            try:
                options[alias] = self._import_one(alias)
            except (ImportError, AttributeError) as ex:
                options[alias] = ex
        return options


# -- the settings --------------------------------------------------------------------------

_LOOP_BACKENDS = ("epoll", "kqueue", "poll", "select")
# gevent's own loop implementations: here they all mean "the best backend available".
_LOOP_BEST_AVAILABLE = frozenset(
    {"default", "libev", "libev-cext", "libev-cffi", "libuv", "libuv-cffi", "best"}
)


def _backend_available(name: str) -> bool:
    return hasattr(select, name)


class _Loop(Setting):
    name = "loop"
    environment_key = "GEVENT_LOOP"
    default = None
    desc = """
    The readiness backend of each hub's event loop: 'epoll', 'kqueue', 'poll' or 'select'.
    None (the default) picks the best one the platform has. gevent's loop names
    ('libev-cext', 'libev-cffi', 'libuv', 'libuv-cffi', 'default') are accepted and mean
    the best available backend, since this gevent has no libev or libuv. A comma-separated
    list picks the first backend available on this platform.
    """

    def validate(self, value: Any) -> str | None:
        expected = (
            "one of " + ", ".join(repr(name) for name in _LOOP_BACKENDS)
            + ", None, or one of gevent's loop names "
            + ", ".join(repr(name) for name in sorted(_LOOP_BEST_AVAILABLE))
            + " (meaning the best available backend)"
        )
        if value is None:
            return None
        if isinstance(value, str):
            names = [part.strip().lower() for part in value.split(",") if part.strip()]
        elif isinstance(value, (list, tuple)):
            names = [str(part).strip().lower() for part in value]
        else:
            raise self._error(value, expected)
        if not names:
            return None
        for name in names:
            if name not in _LOOP_BACKENDS and name not in _LOOP_BEST_AVAILABLE:
                raise self._error(value, expected)
        for name in names:
            if name in _LOOP_BEST_AVAILABLE:
                return None
            if _backend_available(name):
                return name
        available = [name for name in _LOOP_BACKENDS if _backend_available(name)]
        raise self._error(
            value, "a backend this platform has: " + ", ".join(repr(n) for n in available)
        )


class _Resolver(_ImportableSetting):
    name = "resolver"
    environment_key = "GEVENT_RESOLVER"
    default = ("thread", "dnspython", "ares", "block")
    shortname_map = {
        "thread": "gevent.resolver.thread.Resolver",
        "block": "gevent.resolver.blocking.Resolver",
        "blocking": "gevent.resolver.blocking.Resolver",
        "dnspython": "gevent.resolver.dnspython.Resolver",
        "ares": "gevent.resolver.ares.Resolver",
    }
    desc = """
    The class the hub instantiates as its DNS resolver (``hub.resolver``). 'thread' (the
    default) runs the system's getaddrinfo in the hub's thread pool; 'block' calls it
    directly; 'dnspython' and 'ares' use those optional libraries.
    """


class _Threadpool(_ImportableSetting):
    name = "threadpool"
    environment_key = "GEVENT_THREADPOOL"
    default = "gevent.threadpool.ThreadPool"
    desc = "The class the hub instantiates as its thread pool (``hub.threadpool``)."


class _ThreadpoolIdleTaskTimeout(_FloatSetting):
    name = "threadpool_idle_task_timeout"
    environment_key = "GEVENT_THREADPOOL_IDLE_TASK_TIMEOUT"
    default = 5.0
    special = (-1.0,)
    desc = """
    Seconds a worker thread of the default thread pool may sit idle before it exits.
    -1 means idle threads never exit.
    """


class _FileObject(_ImportableSetting):
    name = "fileobject"
    environment_key = "GEVENT_FILE"
    default = ("posix", "thread")
    shortname_map = {
        "thread": "gevent.fileobject.FileObjectThread",
        "posix": "gevent.fileobject.FileObjectPosix",
        "block": "gevent.fileobject.FileObjectBlock",
    }
    desc = "The class ``gevent.fileobject.FileObject`` names: 'posix', 'thread' or 'block'."


class _FormatContext(_ImportableSetting):
    name = "format_context"
    environment_key = "GEVENT_FORMAT_CONTEXT"
    default = "pprint.saferepr"
    desc = """
    The function that formats greenlet spawn-tree locals and other context objects in
    run-info reports (``gevent.util.format_run_info``).
    """


class _DisableWatchChildren(_BoolSetting):
    name = "disable_watch_children"
    environment_key = "GEVENT_NOWAITPID"
    default = False
    desc = """
    If true, gevent does not watch child processes with the event loop, and
    ``gevent.os.waitpid`` does not cooperate. An advanced setting for code that reaps its
    own children.
    """


class _TrackGreenletTree(_BoolSetting):
    name = "track_greenlet_tree"
    environment_key = "GEVENT_TRACK_GREENLET_TREE"
    default = True
    desc = """
    Whether each Greenlet records the greenlet that spawned it, the spawning stack and the
    spawn-tree locals (``spawning_greenlet``, ``spawning_stack``, ``spawn_tree_locals``).
    Turning it off makes spawning cheaper and greenlets smaller.
    """

    def set(self, value: Any) -> None:
        super().set(value)
        # The spawn path keeps the value it read (gevent._spawn_tree._track_tree); a change
        # takes effect from the next spawn, as in gevent, which reads it for every greenlet.
        import sys

        spawn_tree = sys.modules.get("gevent._spawn_tree")
        if spawn_tree is not None:
            spawn_tree._tracking[0] = True  # so that the next spawn reads the setting again
            spawn_tree._config_checked[0] = False


class _MonitorThread(_BoolSetting):
    name = "monitor_thread"
    environment_key = "GEVENT_MONITOR_THREAD_ENABLE"
    default = False
    desc = """
    Whether each hub starts a native monitoring thread (the first time the hub runs) that
    reports an event loop blocked for longer than ``max_blocking_time`` and, when
    ``max_memory_usage`` is set, watches the process's memory. See ``gevent.events``.
    """


class _MaxBlockingTime(_FloatSetting):
    name = "max_blocking_time"
    environment_key = "GEVENT_MAX_BLOCKING_TIME"
    default = 0.1
    desc = """
    With ``monitor_thread`` on: roughly how many seconds the event loop may go without
    switching before the monitor reports it as blocked.
    """


class _MaxMemoryUsage(_ByteCountSetting):
    name = "max_memory_usage"
    environment_key = "GEVENT_MONITOR_MEMORY_MAX"
    default = None
    desc = """
    With ``monitor_thread`` on: the memory usage, in bytes, above which
    ``MemoryUsageThresholdExceeded`` is emitted (and ``MemoryUsageUnderThreshold`` when usage
    falls back below). A suffix kb, mb or gb is accepted. No default: off until set.
    """


class _MemoryMonitorPeriod(_FloatSetting):
    name = "memory_monitor_period"
    environment_key = "GEVENT_MONITOR_MEMORY_PERIOD"
    default = 5.0
    desc = """
    With ``monitor_thread`` on: roughly how many seconds between two checks of the
    process's memory usage. Checking has a cost, so the monitor enforces a floor.
    """


class _PrintBlockingReports(_BoolSetting):
    name = "print_blocking_reports"
    environment_key = "GEVENT_MONITOR_PRINT_BLOCKING_REPORTS"
    default = True
    desc = """
    With ``monitor_thread`` on: whether a detected block is printed (to the hub's exception
    stream). The report is built and ``EventLoopBlocked`` is emitted either way.
    """


class _TraceMalloc(_IntSetting):
    name = "trace_malloc"
    environment_key = "PYTHONTRACEMALLOC"
    default = 0
    desc = """
    Python's own tracemalloc switch, read for compatibility; gevent has no FFI objects to
    track, so it only reports what the interpreter was told.
    """


class _LibevBackend(_StringListSetting):
    name = "libev_backend"
    environment_key = "GEVENT_BACKEND"
    default = None
    desc = """
    Accepted for compatibility and ignored: this gevent has no libev. Use ``loop`` to choose
    the readiness backend.
    """


class _ResolverNameservers(_StringListSetting):
    name = "resolver_nameservers"
    environment_key = "GEVENT_RESOLVER_NAMESERVERS"
    default = None
    kwarg_name = "servers"
    desc = """
    The IP addresses of the nameservers the dnspython and ares resolvers query, replacing
    those read from /etc/resolv.conf. Comma-separated in the environment. The thread and
    blocking resolvers use the system's configuration and ignore it.
    """


class _ResolverTimeout(_FloatSetting):
    name = "resolver_timeout"
    environment_key = "GEVENT_RESOLVER_TIMEOUT"
    default = None
    kwarg_name = "timeout"
    desc = """
    Total seconds the dnspython or ares resolver spends on one lookup. The thread and
    blocking resolvers ignore it.
    """


class _AresIntSetting(_IntSetting):
    default = None


class _AresFlags(_AresIntSetting):
    name = "ares_flags"
    environment_key = "GEVENTARES_FLAGS"
    kwarg_name = "flags"
    desc = "The c-ares channel flags (an integer bit mask), for the ares resolver."


class _AresTimeout(_FloatSetting):
    name = "ares_timeout"
    environment_key = "GEVENTARES_TIMEOUT"
    default = None
    kwarg_name = "timeout"
    desc = "Deprecated spelling of ``resolver_timeout`` for the ares resolver."


class _AresTries(_AresIntSetting):
    name = "ares_tries"
    environment_key = "GEVENTARES_TRIES"
    kwarg_name = "tries"
    minimum = 1
    desc = "How many times the ares resolver tries each nameserver."


class _AresNdots(_AresIntSetting):
    name = "ares_ndots"
    environment_key = "GEVENTARES_NDOTS"
    kwarg_name = "ndots"
    desc = "The minimum number of dots for the ares resolver to try a name as absolute first."


class _AresUdpPort(_AresIntSetting):
    name = "ares_udp_port"
    environment_key = "GEVENTARES_UDP_PORT"
    kwarg_name = "udp_port"
    maximum = 65535
    desc = "The UDP port the ares resolver sends queries to."


class _AresTcpPort(_AresIntSetting):
    name = "ares_tcp_port"
    environment_key = "GEVENTARES_TCP_PORT"
    kwarg_name = "tcp_port"
    maximum = 65535
    desc = "The TCP port the ares resolver sends queries to."


class _AresServers(_StringListSetting):
    name = "ares_servers"
    environment_key = "GEVENTARES_SERVERS"
    default = None
    kwarg_name = "servers"
    desc = "Deprecated spelling of ``resolver_nameservers`` for the ares resolver."


_SETTING_TYPES: tuple[type[Setting], ...] = (
    _Loop,
    _Resolver,
    _Threadpool,
    _ThreadpoolIdleTaskTimeout,
    _FileObject,
    _FormatContext,
    _DisableWatchChildren,
    _TrackGreenletTree,
    _MonitorThread,
    _MaxBlockingTime,
    _MaxMemoryUsage,
    _MemoryMonitorPeriod,
    _PrintBlockingReports,
    _TraceMalloc,
    _LibevBackend,
    _ResolverNameservers,
    _ResolverTimeout,
    _AresFlags,
    _AresTimeout,
    _AresTries,
    _AresNdots,
    _AresUdpPort,
    _AresTcpPort,
    _AresServers,
)


class Config:
    """gevent's configuration: one attribute per setting.

    ``gevent.config`` is the instance gevent reads. Read ``config.NAME`` for a setting's
    validated value, assign ``config.NAME = value`` (or ``config.set(NAME, value)``) to change
    it; a bad value raises ValueError naming the setting and what it accepts, and a name that
    is not a setting raises AttributeError. Settings that configure the hub (``loop``,
    ``resolver``, ``threadpool``) must be changed before the hub is created to take effect.
    """

    settings: dict[str, Setting]

    def __init__(self) -> None:
        settings: dict[str, Setting] = {}
        for setting_type in _SETTING_TYPES:
            setting = setting_type()
            setting._invalidate = self._forget
            settings[setting.name] = setting
        object.__setattr__(self, "settings", settings)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only reached when *name* is not cached in __dict__ yet.
        settings = self.__dict__.get("settings")
        if settings is None or name not in settings:
            raise AttributeError(f"gevent.config has no setting {name!r}")
        value = settings[name].get()
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self.settings:
            raise AttributeError(
                f"gevent.config has no setting {name!r}; settings are: "
                + ", ".join(sorted(self.settings))
            )
        self.settings[name].set(value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete gevent.config.{name}")

    def set(self, name: str, value: Any) -> None:
        """Validate *value* and make it setting *name*'s value."""
        setattr(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.settings))

    def print_help(self) -> None:
        """Print every setting with its description, default and environment variable."""
        for name, setting in self.settings.items():
            print(name)
            print(textwrap.indent(setting.full_description, "    "))
            print()

    def __repr__(self) -> str:
        return f"<gevent.config.Config with {len(self.settings)} settings>"


#: The configuration gevent reads.
config = Config()
