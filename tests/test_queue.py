"""gevent.queue: FIFO hand-over, bounds, peek, shutdown, iteration, the queue variants."""

from __future__ import annotations

import pytest

import gevent
from gevent.queue import (
    Channel,
    Empty,
    Full,
    JoinableQueue,
    LifoQueue,
    PriorityQueue,
    Queue,
    ShutDown,
    SimpleQueue,
    UnboundQueue,
)


def test_generic_subscript_at_run_time():
    assert Queue[int] is not None and SimpleQueue[str] is not None
    assert PriorityQueue[int] is not None and Channel[int] is not None


def test_getters_served_in_fifo_order():
    queue = Queue()
    log = []
    getters = [gevent.spawn(lambda n=n: log.append((n, queue.get()))) for n in range(3)]
    gevent.sleep(0)
    for item in "xyz":
        queue.put(item)
    gevent.joinall(getters, timeout=5)
    assert log == [(0, "x"), (1, "y"), (2, "z")]
    assert queue.getters == type(queue.getters)()


def test_putters_served_in_fifo_order_and_items_keep_order():
    queue = Queue(1)
    queue.put(0)
    putters = [gevent.spawn(queue.put, n) for n in (1, 2, 3)]
    gevent.sleep(0)
    assert queue.full() and len(queue.putters) == 3
    assert [queue.get() for _ in range(4)] == [0, 1, 2, 3]
    gevent.joinall(putters, timeout=5)


def test_put_get_timeouts_and_nowait():
    queue = Queue(1)
    with pytest.raises(Empty):
        queue.get_nowait()
    with pytest.raises(Empty):
        queue.get(timeout=0.01)
    queue.put_nowait(1)
    with pytest.raises(Full):
        queue.put_nowait(2)
    with pytest.raises(Full):
        queue.put(2, timeout=0.01)
    assert queue.unfinished_tasks == 1
    assert not queue.getters and not queue.putters


def test_maxsize_semantics_and_runtime_change():
    assert Queue().maxsize is None and Queue(0).maxsize is None and Queue(5).maxsize == 5
    queue = Queue(1)
    queue.put(1)
    putter = gevent.spawn(queue.put, 2)
    gevent.sleep(0)
    assert not putter.dead
    queue.maxsize = 2
    putter.join(5)
    assert putter.dead and queue.qsize() == 2
    queue.maxsize = None
    for item in range(10):
        queue.put(item)
    assert queue.qsize() == 12


def test_peek_waits_without_removing():
    queue = Queue()
    peeker = gevent.spawn(queue.peek)
    getter = gevent.spawn(queue.get)
    gevent.sleep(0)
    queue.put("item")
    assert peeker.get(timeout=5) == "item"
    assert getter.get(timeout=5) == "item"
    queue.put("again")
    assert queue.peek_nowait() == "again" and queue.qsize() == 1
    with pytest.raises(Empty):
        Queue().peek(timeout=0.01)


def test_kill_waiting_getter_leaves_nothing_and_loses_no_item():
    queue = Queue()
    getters = [gevent.spawn(queue.get) for _ in range(2)]
    gevent.sleep(0)
    getters[0].kill()
    assert len(queue.getters) == 1
    queue.put("a")
    assert getters[1].get(timeout=5) == "a"
    # A putter killed while waiting takes its item with it and undoes its task.
    bounded = Queue(1)
    bounded.put(1)
    putter = gevent.spawn(bounded.put, 2)
    gevent.sleep(0)
    putter.kill()
    assert not bounded.putters and bounded.unfinished_tasks == 1 and bounded.qsize() == 1


def test_iteration_ends_at_stop_iteration():
    queue = Queue()
    for item in (1, 2, StopIteration, 3):
        queue.put(item)
    assert list(queue) == [1, 2]
    assert queue.get() == 3


def test_bool_and_len():
    queue = Queue()
    assert bool(queue) and len(queue) == 0 and queue.empty()
    queue.put(1)
    assert len(queue) == 1 and not queue.empty()


def test_priority_and_lifo():
    queue = PriorityQueue(items=[5, 1, 3])
    queue.put(2)
    assert [queue.get() for _ in range(4)] == [1, 2, 3, 5]
    lifo = LifoQueue()
    for item in range(3):
        lifo.put(item)
    assert lifo.peek() == 2
    assert [lifo.get() for _ in range(3)] == [2, 1, 0]


def test_joinable_queue():
    assert JoinableQueue is Queue
    queue = Queue(items=[1, 2])
    assert queue.unfinished_tasks == 2
    assert queue.join(0.01) is False

    def worker():
        for _ in range(2):
            queue.get()
            gevent.sleep(0)
            queue.task_done()

    gevent.spawn(worker)
    assert queue.join(5) is True
    with pytest.raises(ValueError):
        queue.task_done()
    queue.put(3)
    assert queue.join(0.01) is False


def test_shutdown_graceful():
    queue = Queue()
    getter = gevent.spawn(queue.get)
    gevent.sleep(0)
    queue.put(1)
    queue.put(2)
    queue.shutdown()
    assert getter.get(timeout=5) == 1
    with pytest.raises(ShutDown):
        queue.put(3)
    assert queue.get() == 2
    with pytest.raises(ShutDown):
        queue.get()
    assert queue.is_shutdown


def test_shutdown_wakes_blocked_getters_and_putters():
    queue = Queue(1)
    queue.put(1)
    putter = gevent.spawn(queue.put, 2)
    empty = Queue()
    getter = gevent.spawn(empty.get)
    gevent.sleep(0)
    queue.shutdown()
    empty.shutdown()
    with pytest.raises(ShutDown):
        putter.get(timeout=5)
    with pytest.raises(ShutDown):
        getter.get(timeout=5)
    assert queue.unfinished_tasks == 1


def test_shutdown_immediate_drops_items_and_finishes_tasks():
    queue = Queue(items=[1, 2, 3])
    joiner = gevent.spawn(queue.join)
    gevent.sleep(0)
    queue.shutdown(immediate=True)
    assert joiner.get(timeout=5) is True
    assert queue.qsize() == 0 and queue.unfinished_tasks == 0
    with pytest.raises(ShutDown):
        queue.get()


def test_unbound_queue():
    queue = UnboundQueue()
    for item in range(1000):
        queue.put(item)
    assert queue.qsize() == 1000 and queue.maxsize is None
    with pytest.raises(ValueError):
        UnboundQueue(5)


def test_simple_queue_has_no_join():
    queue = SimpleQueue(2)
    queue.put(1)
    assert not hasattr(queue, "join") and queue.get() == 1


def test_channel_rendezvous():
    channel = Channel()
    log = []

    def putter():
        channel.put("x")
        log.append("put-returned")

    glet = gevent.spawn(putter)
    gevent.sleep(0)
    assert log == [] and channel.balance == 1
    assert channel.get(timeout=5) == "x"
    glet.join(5)
    assert log == ["put-returned"]
    with pytest.raises(Full):
        channel.put_nowait(1)
    with pytest.raises(Empty):
        channel.get(timeout=0.01)
    getter = gevent.spawn(channel.get)
    gevent.sleep(0)
    assert channel.balance == -1
    channel.put(5)
    assert getter.get(timeout=5) == 5


def test_copy():
    queue = Queue(3, items=[1, 2])
    clone = queue.copy()
    assert clone.maxsize == 3 and list(clone.queue) == [1, 2] and clone is not queue


def test_subclass_storage_hooks_are_used():
    # put/get name the deque directly on the plain classes; a subclass that stores items
    # its own way (the documented _init/_put/_get hooks) must still get them called, on
    # the fast paths and the waiting ones.
    class Recording(Queue):
        def _init(self, maxsize, items=()):  # as gevent's docs have subclasses do it
            self.queue = list(items)
            self.calls = []

        def _put(self, item):
            self.calls.append(("put", item))
            self.queue.append(item)

        def _get(self):
            self.calls.append(("get",))
            return self.queue.pop()  # LIFO, so a bypassed hook would show in the order

    queue = Recording()
    for item in (1, 2, 3):
        queue.put(item)
    assert [queue.get(), queue.get()] == [3, 2]
    assert queue.unfinished_tasks == 3
    assert queue.calls == [("put", 1), ("put", 2), ("put", 3), ("get",), ("get",)]

    bounded = Recording(1)
    bounded.put("a")
    putter = gevent.spawn(bounded.put, "b")  # waits: the queue is full
    gevent.sleep(0)
    assert bounded.get(timeout=1) == "a"
    putter.join(timeout=1)
    assert bounded.get(timeout=1) == "b"
    assert ("put", "b") in bounded.calls

    class Plain(SimpleQueue):  # no storage hook changed: keeps the direct deque calls
        pass

    plain = Plain()
    plain.put(1)
    assert plain.get() == 1 and Plain.put is SimpleQueue.put


def test_bounded_queue_never_holds_more_than_maxsize():
    # Puts on the fast path spend credits handed out for the room there was; every way
    # room shrinks behind them (putters' items moved in, an item pushed back by a killed
    # getter, maxsize lowered and raised) must leave the queue within maxsize.
    import random

    rng = random.Random(7)
    queue = Queue(5)
    seen = []
    violations = []

    def check():
        if queue.qsize() > queue.maxsize:
            violations.append(queue.qsize())

    def producer(base):
        for n in range(200):
            queue.put((base, n))
            check()
            if rng.random() < 0.2:
                gevent.sleep(0)

    def consumer():
        for _ in range(400):
            seen.append(queue.get(timeout=5))
            check()
            if rng.random() < 0.3:
                gevent.sleep(0)

    workers = [gevent.spawn(producer, 0), gevent.spawn(producer, 1), gevent.spawn(consumer)]
    gevent.sleep(0)
    queue.maxsize = 2
    gevent.sleep(0)
    queue.maxsize = 8
    gevent.joinall(workers, timeout=10, raise_error=True)
    assert not violations
    for base in (0, 1):
        assert [n for b, n in seen if b == base] == list(range(200))  # each in order
    assert queue.unfinished_tasks == 400


def test_raising_maxsize_with_putters_waiting_counts_their_items():
    queue = Queue(1)
    queue.put("a")
    putters = [gevent.spawn(queue.put, item) for item in "bcd"]
    gevent.sleep(0)
    assert len(queue.putters) == 3
    queue.maxsize = 3  # b and c go in; d still waits
    assert queue.qsize() == 3 and len(queue.putters) == 1
    with pytest.raises(Full):
        queue.put_nowait("e")  # no credit for room that is not there
    assert [queue.get(timeout=1) for _ in range(4)] == ["a", "b", "c", "d"]
    gevent.joinall(putters, timeout=5)
    assert all(p.successful() for p in putters)


def test_getter_killed_after_handover_keeps_the_queue_within_bounds():
    queue = Queue(1)
    getter = gevent.spawn(queue.get)
    gevent.sleep(0)  # waiting
    # The hub raises in the getter before it runs with the item handed to it below.
    gevent.get_hub().loop.run_callback(getter.throw)
    queue.put("x")
    gevent.sleep(0)  # the getter leaves: "x" goes back to the front
    assert getter.dead and not queue.getters
    assert queue.qsize() == 1 and queue.full()
    with pytest.raises(Full):
        queue.put_nowait("y")
    assert queue.get_nowait() == "x"
    queue.put_nowait("y")
    assert queue.get_nowait() == "y"


def test_unfinished_tasks_is_exact_on_every_path():
    queue = Queue()
    for n in range(300):  # past one batch of put credits
        queue.put(n)
    assert queue.unfinished_tasks == 300
    for _ in range(300):
        queue.get()
        queue.task_done()
    assert queue.unfinished_tasks == 0 and queue.join(timeout=0)
    with pytest.raises(ValueError):
        queue.task_done()
    queue.put("again")
    assert not queue.join(timeout=0.01)
    queue.unfinished_tasks = 0  # settable, as the attribute it is in gevent
    assert queue.unfinished_tasks == 0 and queue.qsize() == 1
    bounded = Queue(2, items=[1])
    assert bounded.unfinished_tasks == 1
    bounded.put(2)
    with pytest.raises(Full):
        bounded.put_nowait(3)
    assert bounded.unfinished_tasks == 2  # the refused put left no task behind


def test_putter_that_gives_up_leaves_gets_working():
    queue = Queue(1)
    queue.put(1)
    with pytest.raises(Full):
        queue.put(2, timeout=0.01)
    assert not queue.putters
    assert queue.get_nowait() == 1
    with pytest.raises(Empty):
        queue.get_nowait()
    queue.put(0)
    putter = gevent.spawn(queue.put, 3)
    gevent.sleep(0)
    putter.kill()
    assert queue.get_nowait() == 0
    assert queue.empty() and not queue.putters
    queue.put(4)
    assert queue.get(timeout=1) == 4


def test_shutdown_with_putters_waiting_then_drain():
    queue = Queue(1)
    queue.put("kept")
    putter = gevent.spawn(queue.put, "refused")
    gevent.sleep(0)
    queue.shutdown()
    putter.join(timeout=5)
    assert isinstance(putter.exception, ShutDown)
    assert queue.get(timeout=1) == "kept"
    with pytest.raises(ShutDown):
        queue.get(timeout=1)


@pytest.mark.parametrize("seed", range(6))
def test_random_operations_lose_nothing(seed):
    # Several greenlets put, get, peek, time out, get killed, while maxsize changes: every
    # item put successfully comes out exactly once, the queue never exceeds maxsize, and
    # unfinished_tasks matches the successful puts minus task_done calls.
    import random

    rng = random.Random(seed)
    queue = Queue(rng.choice([None, 1, 3, 10]))
    put_ok, got = [], []
    violations = []
    done_calls = [0]
    # Lowering maxsize leaves the items already in: the allowed size then only goes down
    # as they drain, to the new maxsize.
    allowed = [queue.maxsize]

    def check():
        size, maxsize = queue.qsize(), queue.maxsize
        if maxsize is None:
            allowed[0] = None
            return
        limit = maxsize if allowed[0] is None else max(maxsize, allowed[0])
        if size > limit:
            violations.append((size, limit))
        allowed[0] = max(maxsize, min(limit, size))

    def producer(base):
        for n in range(60):
            item = (base, n)
            try:
                if rng.random() < 0.3:
                    queue.put(item, timeout=rng.choice([0, 0.001, 0.01]))
                else:
                    queue.put(item)
            except Full:
                continue
            put_ok.append(item)
            check()
            if rng.random() < 0.3:
                gevent.sleep(0)

    def consumer():
        while True:
            try:
                item = queue.get(timeout=0.2)
            except Empty:
                return
            got.append(item)
            queue.task_done()
            done_calls[0] += 1
            check()
            if rng.random() < 0.2:
                gevent.sleep(0)

    producers = [gevent.spawn(producer, b) for b in range(3)]
    consumers = [gevent.spawn(consumer) for _ in range(2)]
    victims = [gevent.spawn(queue.get) for _ in range(2)]  # killed at random moments
    all_victims = list(victims)
    for _ in range(20):
        gevent.sleep(0)
        if rng.random() < 0.3:
            queue.maxsize = rng.choice([None, 1, 2, 5])
            allowed[0] = None if queue.maxsize is None else max(queue.maxsize, queue.qsize())
        if victims and rng.random() < 0.3:
            victims.pop().kill()
    for victim in victims:
        victim.kill()
    gevent.joinall(producers, timeout=10, raise_error=True)
    gevent.joinall(consumers, timeout=10, raise_error=True)
    # A victim handed an item before its kill landed returns it: that item was got.
    leftover = [v.value for v in all_victims if v.successful() and v.value is not None
                and not isinstance(v.value, BaseException)]
    for _ in leftover:
        queue.task_done()
        done_calls[0] += 1
    while not queue.empty():
        leftover.append(queue.get_nowait())
        queue.task_done()
        done_calls[0] += 1
    assert not violations
    assert sorted(got + leftover) == sorted(put_ok)  # nothing lost, nothing twice
    assert queue.unfinished_tasks == len(put_ok) - done_calls[0] == 0
    assert queue.join(timeout=0)


# -- a Timeout instance as the timeout (gevent accepts one wherever it accepts seconds) ------


@pytest.mark.parametrize("wait", [
    lambda timeout: Queue().get(timeout=timeout),
    lambda timeout: Queue(1, [1]).put(2, timeout=timeout),
    lambda timeout: Channel().get(timeout=timeout),
    lambda timeout: Channel().put(1, timeout=timeout),
    lambda timeout: PriorityQueue().peek(timeout=timeout),
])
def test_timeout_instance_raises_itself(wait):
    timeout = gevent.Timeout(0.01)
    with pytest.raises(gevent.Timeout) as caught:
        wait(timeout)
    assert caught.value is timeout and not timeout.pending
    error = ValueError("custom")
    timeout = gevent.Timeout(0.01, error)
    with pytest.raises(ValueError) as caught_error:
        wait(timeout)
    assert caught_error.value is error and not timeout.pending


def test_timeout_instance_cancelled_when_the_wait_succeeds():
    queue = Queue()
    gevent.spawn(queue.put, "item")
    timeout = gevent.Timeout(5)
    assert queue.get(timeout=timeout) == "item"
    assert not timeout.pending


def test_channel_put_returns_after_the_getter_ran():
    # gevent's order: a rendezvous lets the getter run with the item before put returns.
    channel = Channel()
    events = []

    def getter():
        events.append(channel.get())
        events.append(channel.get())

    glet = gevent.spawn(getter)
    events.append("sending")
    channel.put("hello")
    events.append("sent hello")
    channel.put("world")
    events.append("sent world")
    assert events == ["sending", "hello", "sent hello", "world", "sent world"]
    glet.join(timeout=5)


@pytest.mark.parametrize("cls", [SimpleQueue, Queue, PriorityQueue, LifoQueue])
def test_subclass_with_stdlib_style_hooks(cls):
    # The stdlib's hook signatures: _init(maxsize), and _put/_get that call the base class's.
    class Counting(cls):
        initted = False
        gets = puts = 0

        def _init(self, maxsize):
            super()._init(maxsize)
            self.initted = True

        def _get(self):
            self.gets += 1
            return super()._get()

        def _put(self, item):
            self.puts += 1
            return super()._put(item)

    queue = Counting()
    queue.put("hi")
    assert queue.get() == "hi"
    assert (queue.initted, queue.puts, queue.gets) == (True, 1, 1)


def test_subclass_init_may_store_its_own_container():
    mine: list = []

    class Custom(Queue):
        def _init(self, maxsize):
            self.queue = mine

    assert Custom().queue is mine


class _RefusingQueue(Queue):
    """Storage hooks that fail once when told to (as the stdlib's own tests do)."""

    refuse_put = refuse_get = False

    def _put(self, item):
        if self.refuse_put:
            self.refuse_put = False
            raise LookupError("put refused")
        return super()._put(item)

    def _get(self):
        if self.refuse_get:
            self.refuse_get = False
            raise LookupError("get refused")
        return super()._get()


def test_a_refused_put_raises_in_the_putter_that_waited():
    queue = _RefusingQueue(1)
    queue.put("first")
    queue.refuse_put = True
    getter = gevent.spawn(queue.get)
    with pytest.raises(LookupError):
        queue.put("second", timeout=5)  # waits; the getter makes room; the hook refuses
    assert getter.get(timeout=5) == "first"
    assert queue.empty() and queue.unfinished_tasks == 1
    queue.put("third")
    assert queue.get() == "third"


def test_a_refused_get_raises_in_the_getter_that_waited():
    queue = _RefusingQueue()
    queue.refuse_get = True
    gevent.spawn(queue.put, "item")
    with pytest.raises(LookupError):
        queue.get(timeout=5)
    assert queue.qsize() == 1 and queue.get() == "item"


def test_a_refused_nonblocking_put_changes_nothing():
    queue = _RefusingQueue(2)
    queue.refuse_put = True
    with pytest.raises(LookupError):
        queue.put("item", block=False)
    assert queue.empty() and queue.unfinished_tasks == 0
    queue.put("item")
    assert queue.unfinished_tasks == 1
