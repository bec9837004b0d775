"""gevent.util: run info, greenlet trees, wrap_errors, assert_switches, dump on a signal."""

from __future__ import annotations

import gc
import io
import os
import signal
import sys
import threading
import time
import tracemalloc

import greenlet
import pytest

import gevent
from gevent import util
from gevent.hub import get_hub

DOCUMENTED = ["format_run_info", "print_run_info", "GreenletTree", "wrap_errors",
              "assert_switches"]


def test_public_names():
    for name in DOCUMENTED:
        assert name in util.__all__
        assert getattr(util, name)
    for name in util.__all__:
        assert getattr(util, name)
    assert callable(util.clear_stack_frames)
    assert util.dump_stacks is util.format_run_info


def _line_of(marker: str) -> int:
    with open(__file__) as source:
        for number, line in enumerate(source, 1):
            if marker in line and "_line_of" not in line:
                return number
    raise AssertionError(marker)


class _Gate:
    """A tiny greenlet gate that needs nothing but the hub."""

    def __init__(self) -> None:
        self.open = False

    def wait(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.open and time.monotonic() < deadline:
            gevent.sleep(0.005)


def parked(gate: _Gate) -> None:
    gate.wait()


def spawner(gate: _Gate, children: list) -> None:
    children.append(gevent.spawn(parked, gate))  # SPAWN-CHILD
    gate.wait()


def test_format_run_info_names_every_greenlet_with_spawning_location():
    gate = _Gate()
    children: list = []
    first = gevent.spawn(parked, gate)  # SPAWN-FIRST
    parent = gevent.spawn(spawner, gate, children)  # SPAWN-PARENT
    sleeper = gevent.spawn(gevent.sleep, 30)
    try:
        gevent.sleep(0.02)
        assert len(children) == 1
        lines = util.format_run_info()
        text = "\n".join(lines)
        for glet in (first, parent, children[0]):
            assert repr(glet) in text
        here = os.path.basename(__file__)
        for marker in ("SPAWN-FIRST", "SPAWN-PARENT", "SPAWN-CHILD"):
            assert f'{here}", line {_line_of(marker)}' in text, marker
        # Each greenlet's location appears under that greenlet, in its "Spawned at" block.
        child_at = text.index(repr(children[0]))
        assert text.index(f"line {_line_of('SPAWN-CHILD')}", child_at) > child_at
        # The child is drawn under the greenlet that spawned it.
        parent_line = next(i for i, l in enumerate(lines) if repr(parent) in l)
        child_line = next(i for i, l in enumerate(lines) if repr(children[0]) in l)
        indent = lines[parent_line].index("+--")
        assert child_line > parent_line
        assert lines[child_line].index("+--") > indent
        # Threads, the hub's watchers and the suspended greenlets' stacks are there too.
        assert "* Threads" in text and "MainThread" in text and "(CURRENT)" in text
        assert "* Hub watchers" in text
        assert "<timer due in 29." in text and repr(sleeper.switch) in text
        assert "in parked" in text
    finally:
        sleeper.kill()
        gate.open = True
        gevent.joinall([first, parent, *children], timeout=5)
    assert first.dead and parent.dead


def test_format_run_info_options():
    gate = _Gate()
    glet = gevent.spawn(parked, gate)
    try:
        gevent.sleep(0.01)
        terse = "\n".join(util.format_run_info(thread_stacks=False, greenlet_stacks=False))
        assert repr(glet) in terse
        assert "in parked" not in terse  # no running stacks
        assert "Spawned at:" in terse  # spawning stacks are always there
        limited = "\n".join(util.format_run_info(limit=1))
        assert repr(glet) in limited
    finally:
        gate.open = True
        glet.join(timeout=5)


def test_print_run_info_writes_to_file():
    out = io.StringIO()
    util.print_run_info(file=out)
    text = out.getvalue()
    assert "* Threads" in text and "* Greenlets" in text
    assert text.endswith("\n")


def test_print_run_info_defaults_to_stderr(capsys):
    util.print_run_info(thread_stacks=False)
    assert "* Greenlets" in capsys.readouterr().err


def test_run_info_shows_spawn_tree_locals():
    gate = _Gate()

    def owner():
        gevent.getcurrent().spawn_tree_locals["request_id"] = "abc-123"
        gate.wait()

    glet = gevent.spawn(owner)
    try:
        gevent.sleep(0.01)
        text = "\n".join(util.format_run_info())
        assert "'request_id': 'abc-123'" in text
    finally:
        gate.open = True
        glet.join(timeout=5)


def test_greenlet_tree_current_tree():
    gate = _Gate()
    children: list = []
    parent = gevent.spawn(spawner, gate, children)
    try:
        gevent.sleep(0.01)
        tree = util.GreenletTree.current_tree()
        assert tree.is_current_tree and tree.root
        assert tree.greenlet.parent is None
        assert tree.greenlet is greenlet.getcurrent() or tree.greenlet.gr_frame is None

        def find(node, glet):
            if node.greenlet is glet:
                return node
            for child in node.child_trees:
                found = find(child, glet)
                if found is not None:
                    return found
            return None

        parent_node = find(tree, parent)
        assert parent_node is not None and not parent_node.root
        assert [c.greenlet for c in parent_node.child_trees] == children
        assert find(tree, get_hub()) is not None
        compact = str(tree)
        assert repr(parent) in compact and "Spawned at" not in compact
        detailed = tree.format()
        assert "Spawned at:" in detailed and "Running:" in detailed
        assert tree.format_lines(details=False) == compact.split("\n")
        no_stacks = tree.format({"running_stacks": False})
        assert "Running:" not in no_stacks and "Spawned at:" in no_stacks
    finally:
        gate.open = True
        gevent.joinall([parent, *children], timeout=5)


def test_greenlet_tree_add_child():
    root = util.GreenletTree(greenlet.getcurrent())
    child = util.GreenletTree(greenlet.greenlet(lambda: None))
    root.add_child(child)
    root.add_child(root)  # a tree is never its own child
    assert root.child_trees == [child]


def test_forest_has_one_tree_per_thread():
    ready = threading.Event()
    release = threading.Event()
    box: dict = {}

    def other_thread():
        hub = get_hub()
        glet = gevent.spawn(gevent.sleep, 30)
        gevent.sleep(0)
        box["glet"] = glet
        box["root"] = greenlet.getcurrent()
        ready.set()
        release.wait(10)  # natively blocked: the tree stays still while we look
        glet.kill()
        hub.destroy(destroy_loop=True)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        assert ready.wait(10)
        forest = util.GreenletTree.forest()
        assert forest[0].is_current_tree
        others = [t for t in forest if t.greenlet is box["root"]]
        assert len(others) == 1 and not others[0].is_current_tree
        text = "\n".join(others[0].format_lines())
        assert repr(box["glet"]) in text
        # The other thread's main greenlet is running (blocked natively): its stack shows.
        assert "in other_thread" in text
        run_info = "\n".join(util.format_run_info())
        assert repr(box["glet"]) in run_info
        assert run_info.count("---- Thread boundary") >= 2
        assert f"---- Thread boundary [thread {thread.ident:#x}]" in run_info
    finally:
        release.set()
        thread.join(10)
    assert not thread.is_alive()


def test_finished_greenlet_is_marked():
    glet = gevent.spawn(lambda: 42)
    glet.join(timeout=5)
    assert glet.dead
    text = util.GreenletTree.current_tree().format(False)
    assert f"{glet!r}; finished with value 42" in text


class _Expected(Exception):
    pass


def _fail():
    raise _Expected()


def _spawn_child_and_return_it():
    child = gevent.spawn(_fail)
    child.name = "Child"
    return child


def test_tree_format_matches_gevents_drawing():
    # gevent's picture: "+---" connectors, data lines marked ":" in the margin (blank under
    # the last child), "|" beside the children still to come, and each finished greenlet's
    # value (repr cut at 30 characters) or exception on its label.
    saved = gevent.config.track_greenlet_tree
    gevent.config.track_greenlet_tree = True
    hub = get_hub()
    try:
        with _quiet(hub):
            parent = gevent.spawn(_spawn_child_and_return_it)
            parent.name = "Parent"
            child = parent.get(timeout=5)
            child.join(timeout=5)
            last = gevent.spawn(util.GreenletTree.current_tree)
            tree = last.get(timeout=5)
    finally:
        gevent.config.track_greenlet_tree = saved
    lines = tree.format_lines({"running_stacks": False, "spawning_stacks": False})
    text = "\n".join(lines)
    assert lines[0] == repr(tree.greenlet) and lines[1] == " :    Parent: None"
    # The hub is numbered 1 (it was the process's first hub) and sorts with the greenlets.
    assert hub.minimal_ident >= 1
    parent_head = f" +--- {parent!r}; finished with value {repr(child)[:30]}"
    assert parent_head in lines
    at = lines.index(parent_head)
    assert lines[at + 1] == f" :          Parent: {hub!r}"
    assert lines[at + 2] == f" |    +--- {child!r}; finished with exception _Expected()"
    assert lines[at + 3] == f" :                Parent: {hub!r}"
    last_head = f" +--- {last!r}; finished with value <gevent.util.GreenletTree"
    at = next(i for i, line in enumerate(lines) if line.startswith(last_head))
    assert lines[at + 1].endswith(f"    Parent: {hub!r}")
    # The last child of the root (greenlets other tests left may sort after ours): no ":" in
    # the margin under it.
    assert lines[-2].startswith(" +--- ")
    assert lines[-1].startswith("            Parent: ")
    assert f" +--- {hub!r}" in lines
    assert "Parent: " not in str(tree) and "+---" in str(tree)
    assert "[thread" not in text and "(current)" not in text


class _quiet:
    def __init__(self, hub):
        self.hub = hub

    def __enter__(self):
        self.saved = self.hub.print_exception
        self.hub.print_exception = lambda *args: None

    def __exit__(self, *exc):
        self.hub.print_exception = self.saved


def test_tree_shows_greenlet_locals_and_spawn_tree_locals():
    from gevent.local import local

    class Tagged(local):
        pass

    holder = Tagged()
    holder.foo = 42
    empty = Tagged()
    text = util.GreenletTree.current_tree().format({"running_stacks": False})
    assert "Greenlet Locals:" in text
    assert f"  Local {Tagged!r} at {id(holder):#x}" in text
    assert "{'foo': 42}" in text
    assert f"at {id(empty):#x}" not in text and "{}" not in text

    def owner():
        gevent.getcurrent().spawn_tree_locals["stl"] = "STL"
        return util.GreenletTree.current_tree().format({"running_stacks": False})

    text = gevent.spawn(owner).get(timeout=5)
    assert " :          Spawn Tree Locals\n :          {'stl': 'STL'}" in text or \
        "      Spawn Tree Locals\n" in text


def test_tree_roots_and_ignored_greenlets_as_marked():
    # gevent: a greenlet marked greenlet_tree_is_root roots its own tree; one marked
    # greenlet_tree_is_ignored is left out; a finished raw greenlet is "not running".
    def inner():
        fake = greenlet.greenlet(util.GreenletTree.current_tree)
        fake.parent.greenlet_tree_is_ignored = True
        fake.greenlet_tree_is_root = True
        return fake.switch()

    outer = greenlet.greenlet(inner)
    tree = outer.switch()
    lines = tree.format_lines({"running_stacks": False, "spawning_stacks": False})
    assert lines == [f"{tree.greenlet!r}; not running", f" :    Parent: {outer!r}"]


def test_hubs_are_numbered_in_creation_order():
    first = get_hub().minimal_ident
    numbers = []

    def in_thread():
        numbers.append(get_hub().minimal_ident)
        get_hub().destroy(destroy_loop=True)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(10)
    assert numbers and numbers[0] > first >= 1
    # A hub's number does not use up a greenlet's.
    assert gevent.spawn(lambda: None).minimal_ident is not None


# -- wrap_errors ---------------------------------------------------------------------------


def test_wrap_errors():
    def divide(a, b):
        return a / b

    safe = util.wrap_errors(ZeroDivisionError, divide)
    assert safe(6, 3) == 2
    result = safe(1, 0)
    assert isinstance(result, ZeroDivisionError)
    with pytest.raises(TypeError):
        safe(1, "x")
    assert str(safe) == str(divide) and repr(safe) == repr(divide)
    assert safe.__name__ == "divide"
    both = util.wrap_errors((ZeroDivisionError, TypeError), divide)
    assert isinstance(both(1, "x"), TypeError)
    # As a greenlet's function: the error is its value, nothing is reported.
    glet = gevent.spawn(safe, 1, 0)
    assert isinstance(glet.get(timeout=5), ZeroDivisionError)
    assert glet.successful()


# -- clear_stack_frames --------------------------------------------------------------------


def test_clear_stack_frames():
    class Marker:
        pass

    def make():
        marker = Marker()  # noqa: F841 (kept alive by the frame)
        try:
            raise ValueError
        except ValueError:
            return sys.exc_info()[2]

    tb = make()
    frame = tb.tb_next.tb_frame if tb.tb_next else tb.tb_frame
    assert "marker" in frame.f_locals
    util.clear_stack_frames(frame)
    assert "marker" not in frame.f_locals
    util.clear_stack_frames(sys._getframe())  # executing frames are skipped, not an error
    util.clear_stack_frames(None)


# -- assert_switches -----------------------------------------------------------------------


def test_assert_switches_fails_without_switch():
    with pytest.raises(AssertionError) as info:
        with util.assert_switches():
            pass
    assert "To any greenlet in" in str(info.value)
    assert greenlet.gettrace() is None


def test_assert_switches_passes_when_switching():
    with util.assert_switches():
        gevent.sleep(0)
    with util.assert_switches(max_blocking_time=1.0):
        gevent.sleep(0.001)
    assert greenlet.gettrace() is None


def test_assert_switches_fast_body_passes_with_max():
    with util.assert_switches(max_blocking_time=1.0):
        pass


def test_assert_switches_too_long_between_switches():
    with pytest.raises(AssertionError) as info:
        with util.assert_switches(max_blocking_time=0.01):
            gevent.sleep(0)
            time.sleep(0.05)
            gevent.sleep(0)
    message = str(info.value)
    assert "max allowed 0.0100 seconds" in message
    assert "To any greenlet in" in message


def test_assert_switches_body_exception_propagates():
    with pytest.raises(KeyError):
        with util.assert_switches():
            raise KeyError("x")
    assert greenlet.gettrace() is None


def test_assert_switches_hub_only():
    def bounce(back):
        while True:
            time.sleep(0.06)
            back = back.switch()

    main = greenlet.getcurrent()
    partner = greenlet.greenlet(bounce)

    def body():
        # Three stretches of ~0.06 s with direct greenlet switches in between, no hub.
        time.sleep(0.06)
        partner.switch(main)
        time.sleep(0.06)

    with util.assert_switches(max_blocking_time=0.15):
        body()
    partner.throw(greenlet.GreenletExit)
    partner = greenlet.greenlet(bounce)
    with pytest.raises(AssertionError) as info:
        with util.assert_switches(max_blocking_time=0.15, hub_only=True):
            body()
    partner.throw(greenlet.GreenletExit)
    assert "To the hub in" in str(info.value)


def test_assert_switches_chains_and_restores_tracer():
    seen = []

    def outer_tracer(event, args):
        seen.append(event)

    greenlet.settrace(outer_tracer)
    try:
        with util.assert_switches():
            gevent.sleep(0)
        assert greenlet.gettrace() is outer_tracer
        assert "switch" in seen
    finally:
        greenlet.settrace(None)


def test_assert_switches_repr_and_attributes():
    checker = util.assert_switches(0.5, True)
    assert checker.max_blocking_time == 0.5 and checker.hub_only
    assert "max_blocking_time=0.5" in repr(checker)


# -- dump on a signal ----------------------------------------------------------------------


def _raise_signal(signum, handled):
    os.kill(os.getpid(), signum)
    # The handler runs in the main thread at the next bytecode boundary; wait (bounded).
    deadline = time.monotonic() + 5
    while not handled() and time.monotonic() < deadline:
        time.sleep(0.001)


def test_register_dump_signal_to_stream():
    gate = _Gate()
    glet = gevent.spawn(parked, gate)
    out = io.StringIO()
    before = signal.getsignal(signal.SIGUSR1)
    util.register_dump_signal(signal.SIGUSR1, file=out)
    try:
        gevent.sleep(0.01)
        _raise_signal(signal.SIGUSR1, lambda: "* Hub watchers" in out.getvalue())
        text = out.getvalue()
        assert "received signal" in text
        assert repr(glet) in text and "Spawned at:" in text
    finally:
        assert util.unregister_dump_signal(signal.SIGUSR1)
        gate.open = True
        glet.join(timeout=5)
    assert signal.getsignal(signal.SIGUSR1) == before
    assert not util.unregister_dump_signal(signal.SIGUSR1)


def test_register_dump_signal_to_fd_and_chain(tmp_path):
    chained = []
    previous = signal.signal(signal.SIGUSR2, lambda signum, frame: chained.append(signum))
    try:
        path = tmp_path / "dump.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT)
        try:
            util.register_dump_signal(signal.SIGUSR2, file=fd, chain=True,
                                      thread_stacks=False)
            _raise_signal(signal.SIGUSR2, lambda: bool(chained))
        finally:
            util.unregister_dump_signal(signal.SIGUSR2)
            os.close(fd)
        assert "* Greenlets" in path.read_text()
        assert chained == [signal.SIGUSR2]
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_register_dump_signal_rejects_bad_file():
    with pytest.raises(TypeError):
        util.register_dump_signal(signal.SIGUSR1, file=object())


# -- the spawn tree stays bounded ----------------------------------------------------------


def test_recursive_spawn_later_does_not_grow_memory():
    generations = 3000
    samples: dict[int, int] = {}
    done = _Gate()

    def step(n):
        if n in (500, generations):
            gc.collect()
            samples[n] = tracemalloc.get_traced_memory()[0]
        if n < generations:
            gevent.spawn_later(0, step, n + 1)
        else:
            done.open = True

    tracemalloc.start()
    try:
        gevent.spawn(step, 1)
        done.wait(timeout=30)
        assert done.open
    finally:
        tracemalloc.stop()
    grown = samples[generations] - samples[500]
    # Thousands of generations of spawn history would be hundreds of kB; allow noise only.
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over {generations - 500} spawns"
    # And nothing of the chain survives.
    gevent.sleep(0.01)
    gc.collect()
    alive = [o for o in gc.get_objects()
             if isinstance(o, gevent.Greenlet) and getattr(o, "_run", None) is step]
    assert len(alive) <= 1


def test_assert_switches_hub_only_fails_when_the_hub_never_ran():
    # gevent: with hub_only, a block that never switches into the hub fails, however short.
    import time as _time

    from gevent import util

    with pytest.raises(util._FailedToSwitch) as info:
        with util.assert_switches(0.5, hub_only=True):
            _time.sleep(0)
    assert "To the hub in" in str(info.value) and "(max allowed 0.5000 seconds)" in str(info.value)
    with util.assert_switches(0.5, hub_only=True):
        gevent.sleep(0)


def test_switch_tracer_names_gevent_reads():
    from greenlet import getcurrent, gettrace

    from gevent import util

    with util.assert_switches() as outer:
        assert gettrace() is outer.tracer
        assert outer.tracer.active_greenlet is getcurrent()
        with util.assert_switches() as inner:
            assert inner.tracer.previous_trace_function is outer.tracer
            marker = object()
            inner.tracer("switch", (marker, marker))
            assert inner.tracer.active_greenlet is marker
            assert outer.tracer.active_greenlet is marker
        gevent.sleep(0)


def test_spawned_at_of_a_nested_spawn_starts_in_the_spawners_code():
    # As in gevent, the spawning greenlet's Greenlet.run frame is not part of "Spawned at".
    def outer():
        inner = gevent.spawn(lambda: None)  # NESTED-SPAWN
        inner.join(timeout=5)
        node = [n for n in util.GreenletTree.current_tree().child_trees
                if n.greenlet is gevent.getcurrent()][0]
        return "\n".join(node.format_lines({"running_stacks": False}))

    text = gevent.spawn(outer).get(timeout=5)
    block = text.split("Spawned at:")[2]
    first_frame = block.strip().splitlines()[0]
    here = os.path.basename(__file__)
    assert here in first_frame and f"line {_line_of('NESTED-SPAWN')}" in first_frame
