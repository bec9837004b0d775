"""Fork from a greenlet that just took and gave back a logging handler's lock: neither process
reports anything at exit (logging takes its locks while greenlet is being finalized)."""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402

import gevent  # noqa: E402

handler = logging.Handler()
handler.acquire()
started = threading.Event()


def forker():
    started.set()
    handler.acquire()
    handler.release()
    if os.fork() == 0:
        return  # the child ends normally too, through interpreter shutdown
    os.wait()
    print("OK", flush=True)


glet = gevent.spawn(forker)
started.wait()
handler.release()
glet.join()
