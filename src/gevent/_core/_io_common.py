# Theory of operation: what every readiness backend shares.
#
# The loop speaks READ=1 and WRITE=2 (libev's EV_READ/EV_WRITE values, which pyzmq and others pass
# as plain integers). A backend offers register/modify/unregister/poll/close/fileno and a ``name``;
# ``poll(timeout)`` returns ``[(fd, mask)]`` with a negative timeout meaning "forever".

import select

__all__ = ["READ", "WRITE", "BACKENDS", "make_backend", "available_backends"]

READ = 1
WRITE = 2

BACKENDS = ("epoll", "kqueue", "poll", "select")

# What the system offers, read at import: monkey.patch_select(aggressive=True) removes
# select.epoll/kqueue afterwards, and the loop must keep using the real ones.
_SYSTEM_HAS = {name: hasattr(select, name) for name in ("epoll", "kqueue", "poll")}


def available_backends() -> list[str]:
    names = []
    if _SYSTEM_HAS["epoll"]:
        names.append("epoll")
    if _SYSTEM_HAS["kqueue"]:
        names.append("kqueue")
    if _SYSTEM_HAS["poll"]:
        names.append("poll")
    names.append("select")
    return names


def make_backend(name: str | None):
    """Create the named readiness backend, or the best one this system has."""
    if name is None:
        name = available_backends()[0]
    if name not in BACKENDS:
        raise ValueError(
            f"Unknown loop backend {name!r}; expected one of {', '.join(BACKENDS)}"
        )
    if name not in available_backends():
        raise ValueError(f"Loop backend {name!r} is not available on this system")
    if name == "epoll":
        from ._io_epoll import EpollBackend

        return EpollBackend()
    if name == "kqueue":
        from ._io_kqueue import KqueueBackend

        return KqueueBackend()
    if name == "poll":
        from ._io_poll import PollBackend

        return PollBackend()
    from ._io_select import SelectBackend

    return SelectBackend()
