"""joinall and killall: waiting for, and killing, many greenlets at once.

Re-exported by :mod:`gevent.greenlet` (and :mod:`gevent`), where users import them.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from greenlet import GreenletExit

from .greenlet import _RUNNING, Greenlet, _kill, _next_finish_seq
from .timeout import Timeout, _wait_under


def joinall(greenlets, timeout: float | None = None, raise_error: bool = False,
            count: int | None = None) -> list:
    """Wait for the *greenlets* to finish (up to *timeout*); return those that did, in the
    order they finished (those already finished first, in the order given).

    With *raise_error*, raise the first exception any of them raised. A switch point.
    """
    from ._waiting import iwait, wait

    if timeout is not None and isinstance(timeout, Timeout):
        return _joinall_under(greenlets, timeout, raise_error, count)
    if not raise_error:
        if count is None:
            greenlets = list(greenlets)
            if all(type(g) is Greenlet or isinstance(g, Greenlet) for g in greenlets):
                return _join_in_order(greenlets, timeout)
        return wait(greenlets, timeout=timeout, count=count)
    done = []
    for obj in iwait(greenlets, timeout=timeout, count=count):
        if getattr(obj, "exception", None) is not None:
            raise obj.exception
        done.append(obj)
    return done


def _joinall_under(greenlets, timeout: Timeout, raise_error: bool, count: int | None) -> list:
    # A Timeout instance for timeout= (gevent's joinall takes only seconds; accepting the
    # instance too, as every other wait does, is a superset): when it fires, what finished.
    greenlets = list(greenlets)
    before = _next_finish_seq()
    done = _wait_under(timeout, lambda _: joinall(greenlets, None, raise_error, count), None)
    if done is None:
        done = _completion_order([g for g in greenlets if g.ready()], before)
    return done


def _join_in_order(greenlets: list, timeout: float | None) -> list:
    # Joining one greenlet at a time links only the greenlet we wait for; the others finish
    # meanwhile without any notification work. Much cheaper than linking every greenlet. The
    # result is then put in gevent's order (that of iwait): the greenlets that had finished
    # before the call in the order given, then the others in the order they finished, read
    # from the sequence number each one takes when it finishes.
    deadline = None if timeout is None else monotonic() + timeout
    before = _next_finish_seq()
    for g in greenlets:
        if g._exc_info is None and not g.dead:
            if deadline is None:
                g._wait(None)
            else:
                remaining = deadline - monotonic()
                if remaining <= 0 or not g._wait(remaining):
                    return _completion_order([x for x in greenlets if x.ready()], before)
    return _completion_order(greenlets, before)


def _finish_seq_of(glet) -> int:
    try:
        return glet._finish_seq
    except AttributeError:  # dead without having run through Greenlet.run (a raw throw)
        return -1


def _completion_order(done: list, before: int) -> list:
    try:
        seqs = [g._finish_seq for g in done]
    except AttributeError:
        pass
    else:
        if seqs == sorted(seqs):  # the common case, greenlets run as spawned: one C pass
            return done
    finished_before = [g for g in done if _finish_seq_of(g) < before]
    finished_during = [g for g in done if _finish_seq_of(g) >= before]
    finished_during.sort(key=_finish_seq_of)
    return finished_before + finished_during


def killall(greenlets, exception: Any = GreenletExit, block: bool = True,
            timeout: float | None = None) -> None:
    """Kill every greenlet in *greenlets*; with *block*, wait for them to die. A switch point
    when blocking.

    Raises :class:`Timeout` if some are still alive after *timeout* (seconds or a Timeout).
    """
    greenlets = list(greenlets)
    if not greenlets:
        return
    loop = greenlets[0].parent.loop
    alive = []
    for g in greenlets:
        if isinstance(g, Greenlet):
            if g._start_event is not _RUNNING:
                g.kill(exception, block=False)
                continue
            if not g.dead:
                alive.append(g)
                loop.run_callback(_kill, g, exception)
        elif not g.dead:
            alive.append(g)
            loop.run_callback(g.throw, exception)
    waitable = [g for g in alive if hasattr(g, "rawlink")]
    if block and waitable:
        from ._waiting import wait

        # As gevent documents: greenlets still alive when *timeout* passes raise Timeout.
        timer = Timeout._start_new_or_dummy(timeout)
        try:
            wait(waitable)
        finally:
            timer.cancel()


# Users meet these as gevent.greenlet's (reprs, pickling, introspection).
joinall.__module__ = killall.__module__ = "gevent.greenlet"
