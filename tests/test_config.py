"""gevent.config: environment parsing, assignment validation, error messages, lazy imports."""

import os
import pprint
import select
import subprocess
import sys
import textwrap

import pytest

from gevent._config import Config, config

ALL_SETTINGS = {
    "loop": "GEVENT_LOOP",
    "resolver": "GEVENT_RESOLVER",
    "threadpool": "GEVENT_THREADPOOL",
    "threadpool_idle_task_timeout": "GEVENT_THREADPOOL_IDLE_TASK_TIMEOUT",
    "fileobject": "GEVENT_FILE",
    "format_context": "GEVENT_FORMAT_CONTEXT",
    "disable_watch_children": "GEVENT_NOWAITPID",
    "track_greenlet_tree": "GEVENT_TRACK_GREENLET_TREE",
    "monitor_thread": "GEVENT_MONITOR_THREAD_ENABLE",
    "max_blocking_time": "GEVENT_MAX_BLOCKING_TIME",
    "max_memory_usage": "GEVENT_MONITOR_MEMORY_MAX",
    "memory_monitor_period": "GEVENT_MONITOR_MEMORY_PERIOD",
    "print_blocking_reports": "GEVENT_MONITOR_PRINT_BLOCKING_REPORTS",
    "trace_malloc": "PYTHONTRACEMALLOC",
    "libev_backend": "GEVENT_BACKEND",
    "resolver_nameservers": "GEVENT_RESOLVER_NAMESERVERS",
    "resolver_timeout": "GEVENT_RESOLVER_TIMEOUT",
    "ares_flags": "GEVENTARES_FLAGS",
    "ares_timeout": "GEVENTARES_TIMEOUT",
    "ares_tries": "GEVENTARES_TRIES",
    "ares_ndots": "GEVENTARES_NDOTS",
    "ares_udp_port": "GEVENTARES_UDP_PORT",
    "ares_tcp_port": "GEVENTARES_TCP_PORT",
    "ares_servers": "GEVENTARES_SERVERS",
}


@pytest.fixture
def env(monkeypatch):
    """Clear every gevent variable, then let the test set the ones it wants."""
    for key in ALL_SETTINGS.values():
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def fresh(env, **variables):
    for key, value in variables.items():
        env.setenv(key, value)
    return Config()


def test_every_documented_setting_with_its_environment_variable():
    assert set(config.settings) == set(ALL_SETTINGS)
    for name, key in ALL_SETTINGS.items():
        setting = config.settings[name]
        assert setting.name == name
        assert setting.environment_key == key
        assert setting.desc.strip(), name
        assert key in setting.full_description
        assert setting.document is True
    assert set(ALL_SETTINGS) <= set(dir(config))


def test_defaults(env):
    c = Config()
    assert c.loop is None
    assert c.threadpool_idle_task_timeout == 5.0
    assert c.format_context is pprint.saferepr
    assert c.disable_watch_children is False
    assert c.track_greenlet_tree is True
    assert c.monitor_thread is False
    assert c.max_blocking_time == 0.1
    assert c.max_memory_usage is None
    assert c.memory_monitor_period == 5.0
    assert c.print_blocking_reports is True
    assert c.libev_backend is None
    assert c.resolver_nameservers is None
    assert c.resolver_timeout is None
    for name in ALL_SETTINGS:
        if name.startswith("ares_"):
            assert getattr(c, name) is None, name


def test_environment_is_read_lazily(env):
    c = Config()
    env.setenv("GEVENT_MAX_BLOCKING_TIME", "2.5")
    assert c.max_blocking_time == 2.5
    # Once read, the value stays: the environment is not re-read.
    env.setenv("GEVENT_MAX_BLOCKING_TIME", "3")
    assert c.max_blocking_time == 2.5


@pytest.mark.parametrize(
    "word, expected",
    [("1", True), ("true", True), ("YES", True), ("on", True), (" On ", True),
     ("0", False), ("false", False), ("no", False), ("OFF", False)],
)
def test_booleans_from_environment(env, word, expected):
    c = fresh(env, GEVENT_MONITOR_THREAD_ENABLE=word, GEVENT_TRACK_GREENLET_TREE=word,
              GEVENT_NOWAITPID=word, GEVENT_MONITOR_PRINT_BLOCKING_REPORTS=word)
    assert c.monitor_thread is expected
    assert c.track_greenlet_tree is expected
    assert c.disable_watch_children is expected
    assert c.print_blocking_reports is expected


def test_empty_environment_variable_means_default(env):
    c = fresh(env, GEVENT_TRACK_GREENLET_TREE="", GEVENT_MAX_BLOCKING_TIME="  ")
    assert c.track_greenlet_tree is True
    assert c.max_blocking_time == 0.1


def test_bad_boolean_from_environment_names_setting_and_variable(env):
    c = fresh(env, GEVENT_MONITOR_THREAD_ENABLE="maybe")
    with pytest.raises(ValueError) as info:
        _ = c.monitor_thread
    message = str(info.value)
    assert "monitor_thread" in message
    assert "GEVENT_MONITOR_THREAD_ENABLE" in message
    assert "'maybe'" in message
    assert "yes/no" in message


def test_numbers_from_environment(env):
    c = fresh(
        env,
        GEVENT_MAX_BLOCKING_TIME="0.25",
        GEVENT_THREADPOOL_IDLE_TASK_TIMEOUT="-1",
        GEVENT_MONITOR_MEMORY_PERIOD="10",
        GEVENT_RESOLVER_TIMEOUT="3",
        GEVENTARES_TRIES="3",
        GEVENTARES_FLAGS="0x10",
        GEVENTARES_UDP_PORT="5353",
        GEVENTARES_TIMEOUT="1.5",
        PYTHONTRACEMALLOC="5",
    )
    assert c.max_blocking_time == 0.25
    assert c.threadpool_idle_task_timeout == -1.0
    assert c.memory_monitor_period == 10.0
    assert c.resolver_timeout == 3.0
    assert c.ares_tries == 3
    assert c.ares_flags == 16
    assert c.ares_udp_port == 5353
    assert c.ares_timeout == 1.5
    assert c.trace_malloc == 5


@pytest.mark.parametrize(
    "text, expected",
    [("1024", 1024), ("2kb", 2048), ("3MB", 3 * 1024**2), ("1 gb", 1024**3), ("1.5kb", 1536)],
)
def test_memory_sizes(env, text, expected):
    assert fresh(env, GEVENT_MONITOR_MEMORY_MAX=text).max_memory_usage == expected


def test_lists_from_environment(env):
    c = fresh(
        env,
        GEVENT_RESOLVER_NAMESERVERS="1.1.1.1, 8.8.8.8",
        GEVENTARES_SERVERS="9.9.9.9",
        GEVENT_BACKEND="select",
    )
    assert c.resolver_nameservers == ["1.1.1.1", "8.8.8.8"]
    assert c.ares_servers == ["9.9.9.9"]
    assert c.libev_backend == ["select"]


def test_assignment_validates_and_converts():
    c = Config()
    c.max_blocking_time = "2"
    assert c.max_blocking_time == 2.0
    c.set("monitor_thread", "yes")
    assert c.monitor_thread is True
    c.track_greenlet_tree = 0
    assert c.track_greenlet_tree is False
    c.max_memory_usage = "10mb"
    assert c.max_memory_usage == 10 * 1024 * 1024
    c.resolver_nameservers = ["127.0.0.1"]
    assert c.resolver_nameservers == ["127.0.0.1"]
    c.resolver_timeout = None
    assert c.resolver_timeout is None
    # Changing the setting object directly is seen through the config too.
    c.settings["max_blocking_time"].set(4)
    assert c.max_blocking_time == 4.0


@pytest.mark.parametrize(
    "name, value, accepted",
    [
        ("max_blocking_time", "abc", "positive number"),
        ("max_blocking_time", 0, "positive number"),
        ("max_blocking_time", -2, "positive number"),
        ("max_blocking_time", True, "positive number"),
        ("max_blocking_time", None, "positive number"),
        ("threadpool_idle_task_timeout", -2, "-1.0"),
        ("max_memory_usage", "lots", "kb, mb or gb"),
        ("max_memory_usage", -5, "positive"),
        ("ares_udp_port", 70000, "0 to 65535"),
        ("ares_tries", 0, ">= 1"),
        ("ares_ndots", "x", "integer"),
        ("track_greenlet_tree", "perhaps", "true/false"),
        ("track_greenlet_tree", 2, "true/false"),
        ("resolver_nameservers", 5, "list of strings"),
        ("resolver_nameservers", ["1.1.1.1", ""], "non-empty"),
        ("resolver", "not a path!", "'thread'"),
        ("resolver", 42, "dotted path"),
        ("fileobject", "nodots", "'posix'"),
        ("loop", "libevent", "'epoll'"),
        ("loop", 3, "'select'"),
    ],
)
def test_bad_assignment_names_setting_and_accepted_values(name, value, accepted):
    c = Config()
    before = getattr(c, name) if name not in ("resolver", "fileobject") else None
    with pytest.raises(ValueError) as info:
        setattr(c, name, value)
    message = str(info.value)
    assert f"gevent.config.{name}" in message
    assert ALL_SETTINGS[name] in message
    assert accepted in message
    if before is not None:
        assert getattr(c, name) == before


def test_unknown_setting_is_attribute_error():
    c = Config()
    with pytest.raises(AttributeError, match="no setting 'nosuch'"):
        _ = c.nosuch
    with pytest.raises(AttributeError, match="no setting 'nosuch'"):
        c.nosuch = 1
    with pytest.raises(AttributeError):
        c.set("nosuch", 1)
    assert not hasattr(c, "nosuch")


# -- loop ----------------------------------------------------------------------------------

AVAILABLE = [name for name in ("epoll", "kqueue", "poll", "select") if hasattr(select, name)]


@pytest.mark.parametrize("name", AVAILABLE)
def test_loop_backend_names(env, name):
    assert fresh(env, GEVENT_LOOP=name).loop == name
    c = Config()
    c.loop = name.upper()
    assert c.loop == name


@pytest.mark.parametrize(
    "name", ["libev-cext", "libev-cffi", "libuv", "libuv-cffi", "default", "libev"]
)
def test_gevent_loop_names_mean_best_available(env, name):
    assert fresh(env, GEVENT_LOOP=name).loop is None
    c = Config()
    c.loop = "select"
    c.loop = name
    assert c.loop is None


def test_loop_list_picks_first_available(env):
    expected = "poll" if not hasattr(select, "kqueue") else "kqueue"
    assert fresh(env, GEVENT_LOOP="kqueue,poll").loop == expected
    assert fresh(env, GEVENT_LOOP="libuv,select").loop is None


def test_loop_unknown_name(env):
    c = fresh(env, GEVENT_LOOP="uvloop")
    with pytest.raises(ValueError) as info:
        _ = c.loop
    message = str(info.value)
    for word in ("gevent.config.loop", "GEVENT_LOOP", "'uvloop'", "'epoll'", "'kqueue'",
                 "'poll'", "'select'", "'libuv'"):
        assert word in message


@pytest.mark.skipif(hasattr(select, "kqueue"), reason="kqueue is available here")
def test_loop_backend_missing_on_this_platform():
    c = Config()
    with pytest.raises(ValueError, match="backend this platform has"):
        c.loop = "kqueue"


# -- importable settings -------------------------------------------------------------------


def test_importable_aliases_are_mapped():
    resolver = config.settings["resolver"]
    assert resolver.shortname_map["thread"] == "gevent.resolver.thread.Resolver"
    assert resolver.shortname_map["block"] == "gevent.resolver.blocking.Resolver"
    assert resolver.shortname_map["blocking"] == "gevent.resolver.blocking.Resolver"
    assert resolver.shortname_map["dnspython"] == "gevent.resolver.dnspython.Resolver"
    assert resolver.shortname_map["ares"] == "gevent.resolver.ares.Resolver"
    fileobject = config.settings["fileobject"]
    assert fileobject.shortname_map == {
        "thread": "gevent.fileobject.FileObjectThread",
        "posix": "gevent.fileobject.FileObjectPosix",
        "block": "gevent.fileobject.FileObjectBlock",
    }
    assert config.settings["threadpool"].default == "gevent.threadpool.ThreadPool"
    assert config.settings["resolver"].default[0] == "thread"


def test_importable_dotted_path_and_object(env):
    c = fresh(env, GEVENT_FORMAT_CONTEXT="pprint.pformat")
    assert c.format_context is pprint.pformat
    c.format_context = "pprint:saferepr"
    assert c.format_context is pprint.saferepr
    c.format_context = repr
    assert c.format_context is repr
    c.threadpool = "collections.OrderedDict"
    from collections import OrderedDict

    assert c.threadpool is OrderedDict


def test_importable_list_tries_each_in_turn(env):
    c = fresh(env, GEVENT_THREADPOOL="no_such_module_xyz.Pool, collections.deque")
    from collections import deque

    assert c.threadpool is deque
    c.threadpool = ["no_such_module_xyz.Pool", "collections.Counter"]
    from collections import Counter

    assert c.threadpool is Counter


def test_importable_is_resolved_on_read_not_on_assignment():
    c = Config()
    # Assigning a module that does not exist is fine; reading it is the error.
    c.resolver = "no_such_module_xyz.Resolver"
    with pytest.raises(ImportError) as info:
        _ = c.resolver
    message = str(info.value)
    assert "gevent.config.resolver" in message
    assert "GEVENT_RESOLVER" in message
    assert "no_such_module_xyz" in message
    c.resolver = "collections.OrderedDict,no_such_module_xyz.Resolver"
    from collections import OrderedDict

    assert c.resolver is OrderedDict


def test_importing_config_imports_nothing_it_names():
    code = textwrap.dedent(
        """
        import sys
        from gevent._config import Config
        before = set(sys.modules)
        config = Config()
        config.resolver = 'ares'
        config.fileobject = 'thread'
        config.threadpool = 'gevent.threadpool.ThreadPool'
        assert config.loop is None
        assert config.track_greenlet_tree is True
        new = set(sys.modules) - before
        assert not new, sorted(new)
        print('ok')
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_environment_in_a_fresh_interpreter():
    code = "from gevent._config import config; print(config.loop, config.max_blocking_time)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
             "GEVENT_LOOP": "select", "GEVENT_MAX_BLOCKING_TIME": "0.5"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["select", "0.5"]


def test_print_help_lists_every_setting(capsys):
    Config().print_help()
    text = capsys.readouterr().out
    for name, key in ALL_SETTINGS.items():
        assert f"\n{name}\n" in "\n" + text
        assert key in text


def test_configs_are_independent():
    a, b = Config(), Config()
    a.max_blocking_time = 7
    assert b.max_blocking_time == 0.1
    assert a.settings["loop"] is not b.settings["loop"]
