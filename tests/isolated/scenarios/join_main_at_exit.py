"""A green thread that joins the main thread: the interpreter's exit lets it finish."""

from gevent import monkey

monkey.patch_all()

import threading  # noqa: E402
import time  # noqa: E402


def join_main(main):
    main.join()
    assert not main.is_alive()
    print("OK", flush=True)


thread = threading.Thread(target=join_main, args=(threading.current_thread(),))
thread.start()
time.sleep(0.05)
assert thread.is_alive()  # still waiting for the main thread to end
print("main-done", flush=True)
