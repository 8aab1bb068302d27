"""What fastsuite-warm runs cold: anything a forked child cannot serve as a cold run would.

The client checks the command line (no round trip for the obvious cases); the child checks
again once pytest has parsed every source of options (ini `addopts`, PYTEST_ADDOPTS).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

# Short options of pytest and its plugins that take a value, so `-k s` is no `-s`.
_SHORT_WITH_VALUE = frozenset("kmpcoWrn")
_DEBUGGER = ("--pdb", "--trace", "--pdbcls")
_XDIST = ("--numprocesses", "--maxprocesses", "--dist", "--tx", "--looponfail")


def cold_reason(args: list[str], stdin_is_tty: bool) -> str | None:
    """Why these pytest arguments must run cold, or None."""
    for arg in args:
        if arg == "--":
            break
        name = arg.partition("=")[0]
        if name in _DEBUGGER:
            return f"{name} needs the debugger on the terminal"
        if name in _XDIST:
            return f"{name}: xdist starts worker processes of its own"
        if name == "--capture" and arg.endswith("=no") and stdin_is_tty:
            return "--capture=no with a terminal (interactive use)"
        if arg.startswith("-") and not arg.startswith("--"):
            for letter in arg[1:]:
                if letter == "n":
                    return "-n: xdist starts worker processes of its own"
                if letter == "s" and stdin_is_tty:
                    return "-s with a terminal (interactive use)"
                if letter in _SHORT_WITH_VALUE:
                    break
    return None


def cold_reason_for_options(option: object, stdin_is_tty: bool) -> str | None:
    """The same rules on pytest's parsed options (`config.option`), wherever they came from."""
    if getattr(option, "usepdb", False) or getattr(option, "trace", False):
        return "--pdb/--trace needs the debugger on the terminal"
    if getattr(option, "numprocesses", None) or getattr(option, "looponfail", False):
        return "-n: xdist starts worker processes of its own"
    if getattr(option, "capture", None) == "no" and stdin_is_tty:
        return "-s with a terminal (interactive use)"
    return None
