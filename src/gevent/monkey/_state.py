"""What monkey patching has replaced, and the primitive operations that replace things.

``saved`` maps a module name to ``{attribute name: original value}``. An entry is written the
first time an attribute is replaced and never overwritten, so :func:`get_original` always
returns what the module held before gevent touched it, however often patching runs.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

__all__ = [
    "saved",
    "get_original",
    "is_module_patched",
    "is_object_patched",
    "is_anything_patched",
    "patch_item",
    "remove_item",
]

#: ``{module name: {attribute name: original value}}`` for everything patched so far.
saved: dict[str, dict[str, Any]] = {}


class _Missing:
    """Stands for an attribute the module did not have before it was patched."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _module_name(module: ModuleType | str) -> str:
    return module if isinstance(module, str) else module.__name__


def is_module_patched(mod_name: str) -> bool:
    """Whether gevent has patched the module called *mod_name* (e.g. ``"socket"``)."""
    return mod_name in saved


def is_object_patched(mod_name: str, item_name: str) -> bool:
    """Whether gevent has replaced the attribute *item_name* of module *mod_name*."""
    return item_name in saved.get(mod_name, ())


def is_anything_patched() -> bool:
    """Whether any module has been patched in this process."""
    return bool(saved)


def _get_one(mod_name: str, item_name: str) -> Any:
    originals = saved.get(mod_name)
    if originals is not None and item_name in originals:
        value = originals[item_name]
        if value is _MISSING:
            raise AttributeError(f"module {mod_name!r} had no attribute {item_name!r}")
        return value
    module = sys.modules.get(mod_name)
    if module is None:
        module = importlib.import_module(mod_name)
    return getattr(module, item_name)


def get_original(mod_name: str | list[str] | tuple[str, ...],
                 item_name: str | list[str] | tuple[str, ...]) -> Any:
    """The value *mod_name.item_name* had before patching (the current one if never patched).

    *item_name* may be a sequence of names; then a list of values comes back, in order.
    *mod_name* may be a sequence of alternative module names (``('thread', '_thread')``): the
    first that was patched or can be imported supplies every item. The module is imported if
    needed. Raises AttributeError for a name that does not exist, and the last module's
    ImportError if none can be imported.
    """
    if not isinstance(mod_name, str):
        mod_name = _first_module(mod_name)
    if isinstance(item_name, str):
        return _get_one(mod_name, item_name)
    return [_get_one(mod_name, name) for name in item_name]


def _first_module(mod_names) -> str:
    names = list(mod_names)
    if not names:
        raise ValueError("get_original() needs at least one module name")
    error: ImportError | None = None
    for name in names:
        if name in saved or name in sys.modules:
            return name
        try:
            importlib.import_module(name)
        except ImportError as exc:
            error = exc
            continue
        return name
    assert error is not None
    raise error  # the last module's, as gevent


def _record(module: ModuleType, attr: str) -> None:
    originals = saved.setdefault(module.__name__, {})
    if attr not in originals:
        originals[attr] = module.__dict__.get(attr, _MISSING)


def patch_item(module: ModuleType, attr: str, newitem: Any) -> None:
    """Set ``module.attr = newitem``, remembering the original for :func:`get_original`."""
    _record(module, attr)
    setattr(module, attr, newitem)


def remove_item(module: ModuleType, attr: str) -> None:
    """Delete ``module.attr`` (if present), remembering the original for :func:`get_original`."""
    if attr not in module.__dict__:
        return
    _record(module, attr)
    delattr(module, attr)
