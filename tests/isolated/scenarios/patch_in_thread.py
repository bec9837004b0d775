"""patch_all() from a thread other than the main one: gevent's two warnings, and no other."""

import threading

from gevent import monkey

collected = []
monkey._process_warnings = collected.extend


def target():
    monkey.patch_all()


thread = threading.Thread(target=target)
thread.start()
thread.join()
assert collected == [
    "Monkey-patching outside the main native thread. Some APIs will not be available. "
    "Expect a KeyError to be printed at shutdown.",
    "Monkey-patching not on the main thread; threading.main_thread().join() will hang "
    "from a greenlet",
], collected
print("OK", flush=True)
