"""Finding modules that took a reference to something before it was patched.

``from socket import socket`` (or ``from ssl import SSLContext``) executed before patching
leaves the importing module with the blocking original: patching the ``socket`` module cannot
reach it. We look only at module globals (``sys.modules``), never at the heap.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["direct_importers"]

_IMMUTABLE = (int, float, str, bytes, bool, type(None), tuple, frozenset)

# The standard library imports its own names among itself (``_socket`` -> ``socket``, ``reprlib``
# takes ``get_ident`` at start-up): nobody can patch before those, so naming them is only noise.
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def direct_importers(target_name: str, originals: dict[str, Any],
                     exclude: tuple[str, ...] = ()) -> list[str]:
    """Names of loaded modules whose globals hold one of *originals* (``{name: object}``).

    Modules in gevent and the standard library, the target itself and *exclude* are skipped.
    Each entry reads ``"module (name)"``.
    """
    wanted = {id(value): name for name, value in originals.items()
              if not isinstance(value, _IMMUTABLE)}
    if not wanted:
        return []
    skip = {target_name, *exclude}
    found = []
    for mod_name, module in list(sys.modules.items()):
        if module is None or mod_name in skip or mod_name == "gevent" \
                or mod_name.startswith("gevent.") or mod_name == "__mp_main__" \
                or mod_name.partition(".")[0] in _STDLIB:
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        hits = sorted({name for name, value in list(namespace.items())
                       if id(value) in wanted and wanted[id(value)] is not None
                       and namespace.get(name) is value
                       and originals.get(wanted[id(value)]) is value})
        if hits:
            found.append(f"{mod_name} ({', '.join(hits)})")
    return sorted(found)
