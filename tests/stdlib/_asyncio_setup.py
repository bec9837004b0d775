"""Point CPython's asyncio tests at gevent.asyncio's loop (``_runner_threads.py --asyncio``).

Nothing is monkey-patched: the run installs ``gevent.asyncio.EventLoopPolicy``, so
``asyncio.new_event_loop()``, ``asyncio.run()``, ``asyncio.Runner`` and
``IsolatedAsyncioTestCase`` get our loop. Some test classes build their loop themselves
(``create_event_loop`` or ``new_loop`` returning ``asyncio.SelectorEventLoop(...)``, in
test_events, test_sock_lowlevel, test_server, test_sslproto): the method is replaced by one
that asks the policy, so the same tests run on our loop. Tests that build asyncio's private
loops directly (``test_utils.TestLoop`` with its virtual clock, ``BaseEventLoop`` with mocks)
still run on those: each test's record says whether it asked for our loop (``ours``).

Some tests reset the policy (``PolicyTests``, each module's ``tearDownModule``): ours is put
back before every test.
"""

from __future__ import annotations

import asyncio
import unittest

#: The methods by which test classes make their own loop (test_events, test_sock_lowlevel:
#: create_event_loop; test_server, test_sslproto: new_loop).
LOOP_FACTORIES = ("create_event_loop", "new_loop")


class Setup:
    """What the runner's child calls: ``prepare(tests)`` once, ``before_test()`` and
    ``used_our_loop()`` around each test."""

    def __init__(self, loop: str) -> None:
        self.loop = loop
        self._used = False
        self.policy = None
        if loop == "gevent":
            import gevent.asyncio

            self._policy_type = gevent.asyncio.EventLoopPolicy
            self.policy = self._make_policy()

    def _make_policy(self):
        policy = self._policy_type()
        setup = self

        for name in ("new_event_loop", "get_event_loop"):
            original = getattr(policy, name)

            def marked(*args, _original=original, **kwargs):
                setup._used = True
                return _original(*args, **kwargs)

            setattr(policy, name, marked)
        return policy

    def prepare(self, tests: list[unittest.TestCase]) -> None:
        if self.policy is None:
            return
        for cls in {type(test) for test in tests}:
            for factory in LOOP_FACTORIES:
                if factory in dir(cls):
                    # Ask whatever policy is current when the test runs: ours (before_test).
                    setattr(cls, factory,
                            lambda self: asyncio.get_event_loop_policy().new_event_loop())

    def before_test(self) -> None:
        self._used = False
        if self.policy is None:
            return
        current = asyncio.events._event_loop_policy  # None means "the default, not made yet"
        if current is not self.policy:
            asyncio.set_event_loop_policy(self.policy)

    def used_our_loop(self) -> bool:
        return self._used
