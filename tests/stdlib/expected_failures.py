"""CPython tests that fail against gevent's network modules, each with the reason.

``EXPECTED_FAILURES[module]["all"]`` applies to every Python; a ``"3.x"`` key adds entries for
one version. A key matches a test id exactly or as a prefix (a class or a subtest).
"""

EXPECTED_FAILURES: dict[str, dict[str, dict[str, str]]] = {
    "test_select": {"all": {
        "test.test_select.SelectTestCase.test_disallow_instantiation":
            "gevent.select.poll is a Python class that can be instantiated; the C poll type "
            "cannot (gevent has the same difference)",
    }},
    "test_selectors": {"all": {}},
    "test_socket": {"all": {}},
    "test_ssl": {"all": {}},
}
