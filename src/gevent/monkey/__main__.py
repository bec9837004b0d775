"""``python -m gevent.monkey [options] [--module] script_or_module args...``"""

from gevent.monkey import main

main()
