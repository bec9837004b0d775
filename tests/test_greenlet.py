"""gevent.greenlet.Greenlet and the top-level spawn/join/kill/wait API."""

from __future__ import annotations

import gc
import io
import time
import weakref

import pytest

import gevent
from gevent import Greenlet, GreenletExit
from gevent.hub import get_hub


@pytest.fixture
def quiet_hub():
    hub = get_hub()
    hub.exception_stream = io.StringIO()
    yield hub
    hub.exception_stream = None


def test_spawn_get_value():
    g = gevent.spawn(lambda a, b=0: a + b, 1, b=2)
    assert g.get(timeout=5) == 3
    assert g.successful() and g.ready() and g.dead
    assert g.value == 3 and g.exception is None and g.exc_info is None


def test_not_started_state():
    g = Greenlet(lambda: 1)
    assert not g.started and not g.ready() and not g.dead and not bool(g)
    g.start()
    assert g.started and bool(g) and not g.dead
    g.join(5)
    assert g.dead and not bool(g)


def test_subclass_with_run_and_arbitrary_attributes():
    class Worker(Greenlet):
        def __init__(self, n):
            Greenlet.__init__(self)
            self.n = n

        def _run(self):
            return self.n * 2

    w = Worker(21)
    w.celery_attribute = "anything"
    w.start()
    assert w.get(timeout=5) == 42
    assert w.celery_attribute == "anything"


def test_not_callable_is_type_error():
    with pytest.raises(TypeError):
        Greenlet(5)
    with pytest.raises(TypeError):
        gevent.spawn(1)

    class BadRun(Greenlet):
        _run = 5

    with pytest.raises(TypeError):
        BadRun()
    with pytest.raises(TypeError):  # spawn_later(func): the seconds were forgotten
        gevent.spawn_later(1)


def test_greenlet_without_run_is_built_and_runs_nothing():
    # gevent: Greenlet() does not raise; started as is it returns None; _run set later runs.
    g = Greenlet()
    assert repr(g).endswith(": _run>")
    g.start()
    g.join(timeout=5)
    assert g.dead and g.successful() and g.value is None

    g = Greenlet()
    g._run = lambda: 42
    g.start()
    assert g.get(timeout=5) == 42


def test_repr_shows_function_and_name_once_asked():
    def work(*args, **kwargs):
        pass

    g = Greenlet(work, 1, key="v")
    assert repr(g).startswith("<Greenlet at 0x")
    assert repr(g).endswith(": work(1, key='v')>")
    name = g.name
    assert name == f"Greenlet-{g.minimal_ident}"
    assert repr(g).startswith(f'<Greenlet "{name}" at 0x')
    g.start()
    g.join(timeout=5)
    assert repr(g).endswith(": work(1, key='v')>")  # kept after the function is dropped


def test_generic_alias_at_runtime():
    alias = Greenlet[int]
    assert alias.__origin__ is Greenlet


def test_exception_propagates_through_get(quiet_hub):
    def fail():
        raise KeyError("k")

    g = gevent.spawn(fail)
    with pytest.raises(KeyError):
        g.get(timeout=5)
    assert not g.successful()
    assert isinstance(g.exception, KeyError)
    assert g.exc_info[0] is KeyError


def test_get_nonblocking_and_timeout():
    g = gevent.spawn(gevent.sleep, 10)
    with pytest.raises(gevent.Timeout):
        g.get(block=False)
    started = time.monotonic()
    with pytest.raises(gevent.Timeout):
        g.get(timeout=0.05)
    assert time.monotonic() - started < 2
    g.kill()


def test_join_timeout_leaves_no_link():
    g = gevent.spawn(gevent.sleep, 10)
    g.join(0.01)
    assert not g.ready()
    assert not g.has_links()
    g.kill()


def test_kill_before_start_never_runs():
    log = []
    g = gevent.spawn(log.append, 1)
    g.kill()
    gevent.sleep(0.01)
    assert log == []
    assert g.dead and g.ready() and g.successful()
    assert isinstance(g.value, GreenletExit)


def test_kill_start_later_never_runs():
    log = []
    loop = get_hub().loop
    refs = loop._timers.live_refs
    g = gevent.spawn_later(0.01, log.append, 1)
    g.kill()
    gevent.sleep(0.05)
    assert log == [] and g.dead
    assert loop._timers.live_refs == refs


def test_kill_while_waiting_cleans_up_and_runs_finally():
    log = []
    loop = get_hub().loop

    def waiter():
        try:
            gevent.sleep(100)
        finally:
            log.append("finally")

    refs = loop._timers.live_refs
    g = gevent.spawn(waiter)
    gevent.sleep(0)
    g.kill(timeout=5)
    assert g.dead and log == ["finally"]
    assert loop._timers.live_refs == refs


def test_kill_with_custom_exception(quiet_hub):
    class Stop(Exception):
        pass

    g = gevent.spawn(gevent.sleep, 10)
    gevent.sleep(0)
    g.kill(Stop)
    assert isinstance(g.exception, Stop)


def test_kill_nonblocking_then_join():
    g = gevent.spawn(gevent.sleep, 10)
    gevent.sleep(0)
    g.kill(block=False)
    assert not g.dead
    g.join(5)
    assert g.dead


def test_kill_greenlet_that_ignores_with_timeout():
    def stubborn():
        while True:
            try:
                gevent.sleep(10)
            except GreenletExit:
                continue

    g = gevent.spawn(stubborn)
    gevent.sleep(0)
    started = time.monotonic()
    g.kill(timeout=0.05)
    assert not g.dead
    assert time.monotonic() - started < 2
    class Abort(BaseException):
        pass

    hub = get_hub()
    hub.exception_stream = io.StringIO()
    try:
        g.kill(Abort, timeout=5)  # not caught by `except GreenletExit`
    finally:
        hub.exception_stream = None
    assert g.dead and isinstance(g.exception, Abort)


def test_links_in_order_and_kinds(quiet_hub):
    log = []
    ok = gevent.spawn(lambda: "v")
    ok.rawlink(lambda g: log.append(("raw", g.value)))
    ok.link(lambda g: log.append(("link", g.value)))
    ok.link_value(lambda g: log.append(("value", g.value)))
    ok.link_exception(lambda g: log.append(("exception", g.value)))
    ok.join(5)
    gevent.sleep(0.01)
    assert log == [("raw", "v"), ("link", "v"), ("value", "v")]

    log.clear()
    bad = gevent.spawn(lambda: 1 / 0)
    bad.link_value(lambda g: log.append("value"))
    bad.link_exception(lambda g: log.append("exception"))
    bad.join(5)
    gevent.sleep(0.01)
    assert log == ["exception"]


def test_link_after_death_still_fires_and_unlink():
    g = gevent.spawn(lambda: 1)
    g.join(5)
    log = []
    g.rawlink(log.append)
    gevent.sleep(0)
    assert log == [g]

    g2 = gevent.spawn(gevent.sleep, 0.01)
    cb = log.append
    g2.link(cb)
    g2.unlink(cb)
    g2.join(5)
    gevent.sleep(0.01)
    assert log == [g]


def test_joinall_and_raise_error(quiet_hub):
    gs = [gevent.spawn(gevent.sleep, 0.01 * i) for i in range(5)]
    done = gevent.joinall(gs, timeout=5)
    assert len(done) == 5 and all(g.dead for g in gs)

    slow = gevent.spawn(gevent.sleep, 10)
    fast = gevent.spawn(gevent.sleep, 0.01)
    done = gevent.joinall([slow, fast], timeout=0.1)
    assert done == [fast]
    slow.kill()

    def fail():
        gevent.sleep(0.01)
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        gevent.joinall([gevent.spawn(gevent.sleep, 1), gevent.spawn(fail)], raise_error=True)


def test_joinall_count():
    gs = [gevent.spawn(gevent.sleep, d) for d in (0.3, 0.01, 0.02)]
    done = gevent.joinall(gs, count=2, timeout=5)
    assert set(done) == {gs[1], gs[2]}
    gevent.killall(gs)


def test_killall():
    log = []

    def sleeper():
        try:
            gevent.sleep(10)
        finally:
            log.append(1)

    gs = [gevent.spawn(sleeper) for _ in range(5)]
    gevent.sleep(0)
    gs.append(gevent.spawn(sleeper))  # not started yet
    gevent.killall(gs, timeout=5)
    assert all(g.dead for g in gs)
    assert log == [1] * 5


def test_wait_and_iwait_order_of_completion():
    gs = [gevent.spawn(gevent.sleep, d) for d in (0.03, 0.01, 0.02)]
    order = list(gevent.iwait(gs, timeout=5))
    assert order == [gs[1], gs[2], gs[0]]
    assert gevent.wait([gevent.spawn(gevent.sleep, 10)], timeout=0.01) == []


def test_iwait_parked_consumer_is_not_switched_while_busy():
    gs = [gevent.spawn(gevent.sleep, 0.01), gevent.spawn(gevent.sleep, 0.02)]
    seen = []
    for g in gevent.iwait(gs, timeout=5):
        seen.append(g)
        gevent.sleep(0.05)  # both finish while we are busy elsewhere
    assert seen == gs


def test_wait_none_waits_for_the_loop():
    import os
    import subprocess
    import sys

    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    out = subprocess.run(
        [sys.executable, "-c",
         "import gevent; gevent.spawn(gevent.sleep, 0.05); print(gevent.wait(timeout=5))"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": src})
    assert out.stdout.strip() == "True", out.stderr


def test_context_manager_joins_or_kills():
    with gevent.spawn(gevent.sleep, 0.01) as g:
        pass
    assert g.dead
    with pytest.raises(RuntimeError):
        with gevent.spawn(gevent.sleep, 10) as g2:
            raise RuntimeError
    assert g2.dead


def test_name_minimal_ident_repr():
    g = Greenlet(lambda: None)
    assert g.name.startswith("Greenlet-")
    assert isinstance(g.minimal_ident, int)
    g.name = "worker"
    assert g.name == "worker" and "worker" in repr(g)
    g2 = Greenlet(lambda: None)
    assert g2.minimal_ident != g.minimal_ident


def test_spawn_tree():
    def child():
        return gevent.getcurrent()

    parent = gevent.spawn(lambda: gevent.spawn(child).get(timeout=5))
    inner = parent.get(timeout=5)
    assert inner.spawning_greenlet() is parent
    assert inner.spawn_tree_locals is parent.spawn_tree_locals
    stack = parent.spawning_stack
    assert stack is not None
    assert stack.f_code.co_name == "test_spawn_tree"
    assert stack.f_lineno > 0


def test_recursive_spawn_later_memory_bounded():
    # PITFALLS (#1467): recursive spawn_later grew memory without bound through the spawn tree.
    gens = []

    def step(n):
        if n:
            gens.append(weakref.ref(gevent.getcurrent()))
            gevent.spawn_later(0, step, n - 1)

    gevent.spawn(step, 300).join(5)
    gevent.sleep(0.2)
    gc.collect()
    alive = [r for r in gens if r() is not None]
    assert len(alive) < 10


def test_spawn_raw_and_getcurrent():
    results = []
    gevent.spawn_raw(lambda: results.append(gevent.getcurrent()))
    gevent.sleep(0)
    assert results and results[0].parent is get_hub()


def test_many_greenlets():
    gs = [gevent.spawn(lambda i=i: i) for i in range(10000)]
    gevent.joinall(gs, timeout=30)
    assert [g.value for g in gs] == list(range(10000))


def test_start_later_delays():
    started = time.monotonic()
    g = gevent.spawn_later(0.05, time.monotonic)
    assert g.get(timeout=5) - started >= 0.045


def test_switch_interval_api():
    old = gevent.getswitchinterval()
    gevent.setswitchinterval(0.001)
    assert gevent.getswitchinterval() == pytest.approx(0.001)
    gevent.setswitchinterval(old)


def test_top_level_all():
    expected = {
        "Greenlet", "GreenletExit", "Timeout", "config", "fork", "get_hub", "getcurrent",
        "getswitchinterval", "idle", "iwait", "joinall", "kill", "killall", "reinit",
        "setswitchinterval", "signal_handler", "sleep", "spawn", "spawn_later", "spawn_raw",
        "wait", "with_timeout",
    }
    assert expected <= set(gevent.__all__)
    for name in gevent.__all__:
        assert hasattr(gevent, name), name
    assert gevent.__version__ == "26.11.0"


def test_killed_greenlet_does_not_keep_its_locals_alive():
    # The GreenletExit kept as the value must not carry a traceback whose frames hold the
    # killed function's locals (found as 200 leaked server sockets after StreamServer.stop()).
    class Resource:
        pass

    refs = []

    def holder():
        resource = Resource()
        refs.append(weakref.ref(resource))
        gevent.sleep(30)

    g = gevent.spawn(holder)
    gevent.sleep(0)
    g.kill(timeout=5)
    assert g.dead and isinstance(g.value, GreenletExit)
    assert g.value.__traceback__ is None
    assert refs[0]() is None  # freed at once, while the Greenlet object is still referenced


def test_spawn_callbacks_see_every_started_greenlet():
    seen = []
    Greenlet.add_spawn_callback(seen.append)
    Greenlet.add_spawn_callback(seen.append)  # once is enough
    try:
        g1 = gevent.spawn(lambda: None)
        g2 = gevent.spawn_later(0.01, lambda: None)
        g3 = Greenlet(lambda: None)  # not started: not reported
    finally:
        Greenlet.remove_spawn_callback(seen.append)
    g4 = gevent.spawn(lambda: None)
    gevent.joinall([g1, g2, g4], timeout=5)
    assert seen == [g1, g2]
    assert g3 not in seen


def test_given_run_beats_a_subclass_run_method():
    class Worker(Greenlet):
        def _run(self):
            return "method"

    def given():
        return "given"

    with_function = Worker(given)
    assert "given" in repr(with_function)
    with_function.start()
    assert with_function.get(timeout=5) == "given"
    without = Worker()
    without.start()
    assert without.get(timeout=5) == "method"
    # Once run, the given function is dropped (it could hold on to anything); the repr
    # computed before keeps naming it, as gevent's does.
    assert "_run" not in vars(with_function)
    assert "given" in repr(with_function)


def test_plain_greenlet_keeps_its_state_out_of_the_instance_dict():
    # Its own state lives in slots: no dict per greenlet unless the user sets an attribute.
    g = gevent.spawn(lambda: 7)
    assert g.get(timeout=5) == 7
    assert g.spawning_greenlet() is gevent.getcurrent()
    assert vars(g) == {}
    g.extra = 1
    assert vars(g) == {"extra": 1}


def test_joinall_returns_in_completion_order():
    # gevent: those already finished first (in the order given), then the others as they
    # finish; the same with a timeout (only those that finished).
    slow = gevent.spawn(gevent.sleep, 0.06)
    fast = gevent.spawn(gevent.sleep, 0.01)
    done1 = gevent.spawn(lambda: None)
    done2 = gevent.spawn(lambda: None)
    gevent.sleep(0)
    assert gevent.joinall([slow, fast, done2, done1]) == [done2, done1, fast, slow]

    slow = gevent.spawn(gevent.sleep, 5)
    fast = gevent.spawn(gevent.sleep, 0.01)
    try:
        assert gevent.joinall([slow, fast], timeout=0.2) == [fast]
    finally:
        slow.kill()

    first = gevent.spawn(lambda: None)
    second = gevent.spawn(lambda: None)
    assert gevent.joinall([second, first]) == [first, second]  # the order they ran in


def test_link_callbacks_run_at_once_and_unlink_stops_the_others():
    # gevent: link() callbacks run one after the other, each in its own greenlet started at
    # once, so one that unlinks another stops it.
    calls = []

    def first(source):
        source.unlink(second)
        calls.append("first")

    def second(source):
        source.unlink(first)
        calls.append("second")

    g = gevent.spawn(lambda: 5)
    g.link(first)
    g.link(second)
    g.join(5)
    gevent.sleep(0.01)
    assert calls == ["first"]


def test_spawn_tree_locals_shared_within_a_tree_only():
    seen = {}

    def child():
        seen["child"] = gevent.getcurrent().spawn_tree_locals

    def parent():
        seen["parent"] = gevent.getcurrent().spawn_tree_locals
        gevent.spawn(child).join(5)

    first = gevent.spawn(parent)
    second = gevent.spawn(lambda: None)
    gevent.joinall([first, second], timeout=5)
    assert seen["child"] is seen["parent"] is first.spawn_tree_locals
    assert second.spawn_tree_locals is not first.spawn_tree_locals
    assert not hasattr(gevent.getcurrent(), "spawn_tree_locals")  # the root keeps none
    raw = gevent.spawn_raw(lambda: None)
    assert raw.spawn_tree_locals is not None and raw.spawning_greenlet() is gevent.getcurrent()
    gevent.sleep(0)


@pytest.mark.parametrize("delay", [False, True])
def test_with_block_kills_with_the_body_exception(delay):
    class BodyError(Exception):
        pass

    with pytest.raises(BodyError):
        with gevent.spawn(gevent.sleep, 5) as g:
            if delay:
                gevent.sleep(0.01)  # now running
            raise BodyError
    assert g.dead and not g.successful()
    assert isinstance(g.exception, BodyError)


# -- spawn's fast path and the queued state (issue 13): the same behaviour as the general path --


def test_kill_before_start_drops_function_and_arguments(quiet_hub):
    # As gevent: the function and arguments go at once (before the error is reported).
    def work(*args, **kwargs):
        pass

    arg = object()
    ref = weakref.ref(work)
    g = gevent.spawn(work, arg, key=arg)
    assert repr(g).endswith(": work(" + repr(arg)[:50] + ", key=" + repr(arg)[:50] + ")>")
    del g._formatted_info  # computed again below, from what is left
    g.kill(ValueError)
    assert g.args == () and g.kwargs == {}
    assert repr(g).endswith(": _run>")
    assert isinstance(g.exception, ValueError)
    del work
    gc.collect()
    assert ref() is None
    assert "_run> failed with ValueError" in quiet_hub.exception_stream.getvalue()


def test_kill_before_start_skips_a_subclass_run():
    log = []

    class Overrides(Greenlet):
        def run(self):
            log.append("ran")

    g = Overrides.spawn()
    g.kill()
    gevent.sleep(0)
    gevent.sleep(0)
    assert log == [] and g.dead and g.successful()


def test_kwargs_is_a_dict_that_reaches_the_function():
    def work(*args, **kwargs):
        return args, kwargs

    g = Greenlet(work, 1)
    assert g.kwargs == {} and type(g.kwargs) is dict
    g.kwargs["x"] = 2  # changed before it starts: the function gets it
    g.start()
    assert g.get(timeout=5) == ((1,), {"x": 2})
    assert g.kwargs == {} and g.args == ()
    g = gevent.spawn(work, 1, y=3)
    assert g.kwargs == {"y": 3}
    assert g.get(timeout=5) == ((1,), {"y": 3})
    assert g.kwargs == {}


def test_spawn_forms():
    def work(*args, **kwargs):
        return args, kwargs

    assert gevent.spawn(run=work).get(timeout=5) == ((), {})
    assert Greenlet.spawn(work, 1, k=2).get(timeout=5) == ((1,), {"k": 2})
    with pytest.raises(TypeError):
        gevent.spawn(work, run=work)
    with pytest.raises(TypeError, match="must be callable"):
        gevent.spawn(1)
    assert gevent.spawn(None).get(timeout=5) is None  # nothing to run

    class Sub(Greenlet):
        def __init__(self, value=7):
            Greenlet.__init__(self)
            self.given = value

        def _run(self):
            return self.given

    assert Sub.spawn().get(timeout=5) == 7
    assert Sub.spawn(8).get(timeout=5) == 8


def test_children_of_the_main_greenlet_get_their_own_tree_locals():
    first = gevent.spawn(lambda: None)
    second = gevent.spawn(lambda: None)
    assert type(first.spawn_tree_locals) is dict
    assert first.spawn_tree_locals is first.spawn_tree_locals
    assert first.spawn_tree_locals is not second.spawn_tree_locals
    first.spawn_tree_locals["k"] = 1
    assert first.spawn_tree_locals == {"k": 1} and second.spawn_tree_locals == {}
    gevent.joinall([first, second], timeout=5)
    stack = first.spawning_stack
    assert stack.f_code.co_name == "test_children_of_the_main_greenlet_get_their_own_tree_locals"


def test_track_greenlet_tree_change_takes_effect_at_the_next_spawn():
    # gevent reads config.track_greenlet_tree for every greenlet it creates.
    saved = gevent.config.track_greenlet_tree
    try:
        gevent.config.track_greenlet_tree = True
        tracked = gevent.spawn(lambda: None)
        gevent.config.track_greenlet_tree = False
        untracked = gevent.spawn(lambda: None)
        gevent.config.track_greenlet_tree = True
        tracked_again = gevent.spawn(lambda: None)
        gevent.joinall([tracked, untracked, tracked_again], timeout=5)
    finally:
        gevent.config.track_greenlet_tree = saved
    assert tracked.spawning_greenlet is not None
    assert untracked.spawning_greenlet is None
    assert tracked_again.spawning_greenlet is not None
