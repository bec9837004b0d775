"""Plugins registered under the gevent.plugins.monkey.* entry points are called with the events.

The scenario's runner puts a throwaway distribution (its .dist-info declares the entry points)
on sys.path.
"""

import gevent_test_plugin  # noqa: E402  (the throwaway distribution's module)

from gevent import monkey

monkey.patch_all()
kinds = [name for name, _module in gevent_test_plugin.CALLS]
assert kinds[0] == "will_patch_all", kinds
assert "will_patch_module" in kinds and "did_patch_module" in kinds
assert kinds[-2:] == ["did_patch_builtins", "did_patch_all"], kinds
assert ("did_patch_module", "socket") in gevent_test_plugin.CALLS
print("OK")
