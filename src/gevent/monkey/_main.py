"""``python -m gevent.monkey``: run a script or module with everything patched first."""

from __future__ import annotations

import os
import runpy
import sys

__all__ = ["main"]

_USAGE = """\
gevent.monkey - monkey patch the standard library to use gevent, then run a program.

USAGE: python -m gevent.monkey [MONKEY OPTIONS] [--module] (script|module) [SCRIPT OPTIONS]

With no MONKEY OPTIONS every module is patched, as by patch_all(). --no-<module> (for
example --no-thread) leaves one module alone; --<module> (for example --socket) patches only
the modules named that way. --verbose prints what was patched and the state of sys before the
program starts. The program runs as __main__ with sys.argv set to [script_or_module, args...];
--module runs a module (like python -m), otherwise a script path, directory or zip file is run
(like python script).

MONKEY OPTIONS: --verbose, {options}
"""


def _patch_options() -> list[str]:
    import inspect

    from gevent import monkey

    return [name for name, parameter in inspect.signature(monkey.patch_all).parameters.items()
            if parameter.kind is parameter.POSITIONAL_OR_KEYWORD]


def main(argv: list[str] | None = None) -> None:
    from gevent import monkey

    args = list(sys.argv[1:] if argv is None else argv)
    names = _patch_options()
    options: dict[str, bool] = {}
    verbose = False
    run_module = False
    while args and args[0].startswith("--"):
        option = args.pop(0)[2:]
        if option == "module":
            run_module = True
            break
        if option == "verbose":
            verbose = True
        elif option.startswith("no-") and option[3:] in names:
            options[option[3:]] = False
        elif option in names:
            options[option] = True
        else:
            sys.exit(f"Cannot patch {option!r}\n\n" + _USAGE.format(
                options=", ".join(f"--[no-]{name}" for name in names)))
    if not args:
        print(_USAGE.format(options=", ".join(f"--[no-]{name}" for name in names)))
        return

    if any(options.values()):
        # Naming modules means: only those.
        options = {name: options.get(name, False) for name in names}
    monkey.patch_all(**options)

    if verbose:
        import pprint

        shown = ", ".join(f"{k}={v}" for k, v in options.items())
        print(f"gevent.monkey.patch_all({shown})")
        print(f"sys.version={sys.version}")
        print("sys.path=" + pprint.pformat(sys.path))
        print("sys.modules=" + pprint.pformat(sorted(sys.modules)))
        print("cwd=" + os.getcwd())

    target = args[0]
    sys.argv[:] = args
    if run_module:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        # As `python script.py` does: the script's directory comes first on sys.path.
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runpy.run_path(target, run_name="__main__")
