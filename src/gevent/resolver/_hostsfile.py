"""``/etc/hosts``, read the way the C library reads it, for the resolvers that talk DNS
themselves (dnspython, ares): names found there are answered from it, as libc does first."""

from __future__ import annotations

import _socket
import os

__all__ = ["HostsFile"]


def _default_path() -> str:
    if os.name == "nt":  # pragma: no cover - not a supported platform
        root = os.environ.get("SystemRoot", r"C:\Windows")
        return os.path.join(root, "System32", "drivers", "etc", "hosts")
    return "/etc/hosts"


class HostsFile:
    """Parsed ``/etc/hosts``, re-read when its modification time changes."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or _default_path()
        self._mtime: int | None = None
        #: lowercased name -> list of (family, address), in file order
        self._by_name: dict[str, list[tuple[int, str]]] = {}
        #: lowercased name -> (canonical name, aliases)
        self._names: dict[str, tuple[str, list[str]]] = {}
        #: address -> (canonical name, aliases)
        self._by_address: dict[str, tuple[str, list[str]]] = {}

    def _load(self) -> None:
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            mtime = None
        if mtime == self._mtime:
            return
        self._mtime = mtime
        by_name: dict[str, list[tuple[int, str]]] = {}
        names: dict[str, tuple[str, list[str]]] = {}
        by_address: dict[str, tuple[str, list[str]]] = {}
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                lines = f.readlines()
        except OSError:
            lines = []
        for line in lines:
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2:
                continue
            address, canonical, aliases = fields[0], fields[1], fields[2:]
            family = _socket.AF_INET6 if ":" in address else _socket.AF_INET
            try:
                _socket.inet_pton(family, address.split("%", 1)[0])
            except OSError:
                continue
            by_address.setdefault(address, (canonical, aliases))
            for name in [canonical, *aliases]:
                key = name.lower()
                entries = by_name.setdefault(key, [])
                if (family, address) not in entries:
                    entries.append((family, address))
                names.setdefault(key, (canonical, aliases))
        self._by_name, self._names, self._by_address = by_name, names, by_address

    def lookup(self, name: str, family: int = 0) -> list[tuple[int, str]]:
        """Addresses for *name* of *family* (0: any), in file order; empty if unknown."""
        self._load()
        entries = self._by_name.get(name.lower(), [])
        if family:
            entries = [entry for entry in entries if entry[0] == family]
        return list(entries)

    def names(self, name: str) -> tuple[str, list[str]] | None:
        """``(canonical, aliases)`` for *name*, or None."""
        self._load()
        return self._names.get(name.lower())

    def reverse(self, address: str) -> tuple[str, list[str]] | None:
        """``(canonical, aliases)`` for *address*, or None."""
        self._load()
        return self._by_address.get(address)
