"""The exceptions gevent raises for misuse of the hub and its objects."""

from __future__ import annotations

from greenlet import GreenletExit

__all__ = [
    "LoopExit",
    "BlockingSwitchOutError",
    "InvalidSwitchError",
    "ConcurrentObjectUseError",
    "HubDestroyed",
    "InvalidThreadUseError",
    "GreenletExit",
]


class LoopExit(Exception):
    """The main greenlet waited, and the loop ran out of everything that could wake it.

    ``str()`` says what the main greenlet was waiting on and which watchers were still alive.
    ``hub`` and ``handles`` (the descriptions of those watchers) are attributes.
    """

    def __init__(self, message: str = "This operation would block forever", hub=None,
                 handles=None) -> None:
        super().__init__(message, hub, handles)
        self.message = message
        self.hub = hub
        self.handles = handles or []

    def __str__(self) -> str:
        parts = [self.message]
        if self.hub is not None:
            parts.append(f"\tHub: {self.hub!r}")
        if self.handles:
            parts.append("\tStill alive but not keeping the loop running:")
            parts.extend(f"\t\t{h}" for h in self.handles)
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"LoopExit({self.message!r})"


class BlockingSwitchOutError(AssertionError):
    """A blocking call was made from the hub itself (for instance inside a loop callback)."""


class InvalidSwitchError(AssertionError):
    """A waiting greenlet was switched to with an unexpected value."""


class ConcurrentObjectUseError(AssertionError):
    """Two greenlets tried to wait on the same object (a socket's read side, a Waiter)."""


class HubDestroyed(GreenletExit):
    """Thrown into the hub greenlet by ``Hub.destroy()`` to end it."""

    def __init__(self, destroy_loop: bool = False) -> None:
        super().__init__(destroy_loop)
        self.destroy_loop = destroy_loop


class InvalidThreadUseError(RuntimeError):
    """An object bound to one thread's hub was used from another thread."""
