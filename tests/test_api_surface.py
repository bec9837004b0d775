"""Every public name of gevent 26 exists here too (the product contract).

``data/gevent_26_api.json`` lists, per public module of gevent 26.9.0, its ``__all__`` and the
public attributes of its classes with their kind (names only, recorded from the released
package; "instance" attributes were slots there and are plain instance attributes here). Names we
knowingly do not provide are listed in ``OMITTED`` with the reason.
"""

from __future__ import annotations

import importlib
import json
import os

import pytest

DATA = os.path.join(os.path.dirname(__file__), "data", "gevent_26_api.json")
with open(DATA) as f:
    API = json.load(f)

# (module, name) or (module, "Class.attr") -> why we do not provide it.
OMITTED: dict[tuple[str, str], str] = {
    ("gevent.threading", "LazyOnClass"): "a private helper visible in gevent's module namespace",
    ("gevent.threading", "PY313"): "a private version flag visible in gevent's module namespace",
    ("gevent.resolver.ares", "Resolver.cares_class"):
        "gevent's compiled c-ares channel wrapper; ours drives pycares' own Channel directly",
    ("gevent.resolver.ares", "Resolver.fixup_gaierror"):
        "a decorator private to gevent's compiled wrapper; errors are translated inline here",
}

# Green modules mirror a stdlib module: a name that module lacks on the running Python
# (gevent 26.9.0 was recorded on 3.11) is not required here either.
MIRRORS = {
    "gevent.socket": "socket", "gevent.ssl": "ssl", "gevent.select": "select",
    "gevent.selectors": "selectors", "gevent.subprocess": "subprocess", "gevent.os": "os",
    "gevent.signal": "signal", "gevent.time": "time", "gevent.thread": "_thread",
    "gevent.threading": "threading", "gevent.queue": "queue", "gevent.builtins": "builtins",
}


def _required(module: str, name: str) -> bool:
    if (module, name) in OMITTED:
        return False
    mirror = MIRRORS.get(module)
    if mirror is None or hasattr(importlib.import_module(mirror), name):
        return True
    # The running Python's stdlib module lacks it: a platform/version constant, or a function
    # removed upstream since 3.11 (ssl.match_hostname in 3.12), is not ours to provide.
    return not (name.isupper() or name.startswith("_")
                or name in REMOVED_UPSTREAM.get(module, ()))


REMOVED_UPSTREAM = {
    "gevent.ssl": {"RAND_pseudo_bytes", "match_hostname"},
}

# Methods that classes inherit from built-in bases only on newer Pythons (the list was recorded
# on 3.11): BaseException.add_note is 3.11+.
NEWER_BUILTIN_METHODS = {name for name in ("add_note",) if not hasattr(BaseException, name)}

OPTIONAL_EXTRAS = {"gevent.resolver.ares": "pycares", "gevent.resolver.dnspython": "dns"}


def _import(module: str):
    extra = OPTIONAL_EXTRAS.get(module)
    if extra is not None:
        pytest.importorskip(extra)
    return importlib.import_module(module)


@pytest.mark.parametrize("module", sorted(API))
def test_module_names(module):
    mod = _import(module)
    missing = [
        name for name in API[module]["all"]
        if not hasattr(mod, name) and _required(module, name)
    ]
    assert not missing, f"{module} lacks {missing}"


@pytest.mark.parametrize("module", sorted(API))
def test_class_attributes(module):
    mod = _import(module)
    missing = []
    for cls_name, attrs in API[module]["classes"].items():
        cls = getattr(mod, cls_name, None)
        if cls is None:
            continue  # reported by test_module_names
        for attr, kind in attrs.items():
            key = (module, f"{cls_name}.{attr}")
            if key in OMITTED or kind != "method" or attr in NEWER_BUILTIN_METHODS:
                # Data and properties were C slots there and are often instance attributes
                # here: each module's own tests check those on real instances.
                continue
            if not hasattr(cls, attr):
                missing.append(f"{cls_name}.{attr}")
    assert not missing, f"{module} classes lack {missing}"
