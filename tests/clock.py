"""The suite's clock: MOTCUA_TEST_CLOCK=<ISO moment> runs every test as if "now" were that moment.

Loaded as a pytest plugin by tests/conftest.py. When the variable is set, time-machine travels there (ticking) in
pytest_configure, so in every xdist worker before any test module is imported or any test data is built; tests
that need a particular "now" use the time_machine fixture on top of it. Empty or unset: the real clock.

Subprocesses don't see time-machine's clock. A test that starts Python in another process runs it through
`command(...)` with `env(...)`: the child runs `python -m tests.clock <script> ...`, which travels by the parent's
offset from the real clock (MOTCUA_TEST_CLOCK_OFFSET, seconds) before running the script, so both read one clock.
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys
from collections.abc import Mapping

import time_machine

VARIABLE = "MOTCUA_TEST_CLOCK"
OFFSET_VARIABLE = "MOTCUA_TEST_CLOCK_OFFSET"

_traveller: time_machine.travel | None = None


def configured_moment() -> dt.datetime | None:
    """The moment MOTCUA_TEST_CLOCK names (offset-aware), or None for the real clock."""
    value = os.environ.get(VARIABLE, "").strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise SystemExit(f"{VARIABLE}={value!r} is not an ISO moment such as 2027-02-05T16:55:00+07:00") from error
    if moment.tzinfo is None:
        raise SystemExit(f"{VARIABLE}={value!r} needs a UTC offset, e.g. 2027-02-05T16:55:00+07:00")
    return moment


def _real_now() -> dt.datetime:
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.datetime.datetime.now(dt.UTC)
    return dt.datetime.now(dt.UTC)


def start() -> dt.datetime | None:
    """Travel to the configured moment (once per process); the moment, or None on the real clock."""
    global _traveller
    moment = configured_moment()
    offset = os.environ.get(OFFSET_VARIABLE, "").strip()
    if offset:  # a subprocess of a shifted test process: the parent's offset, exact whenever the child starts
        moment = _real_now() + dt.timedelta(seconds=float(offset))
    if moment is not None and _traveller is None:
        _traveller = time_machine.travel(moment, tick=True)
        _traveller.start()
    return moment


def stop() -> None:
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def command(*args: str) -> list[str]:
    """A Python command line (`script.py args…` or `-m module args…`) that runs on this process's clock."""
    return [sys.executable, "-m", "tests.clock", *args]


def env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default os.environ) with this process's clock offset when time is shifted, for `command(...)`."""
    result = dict(os.environ if base is None else base)
    result.pop(OFFSET_VARIABLE, None)
    if time_machine.escape_hatch.is_travelling():
        result[OFFSET_VARIABLE] = repr((dt.datetime.now(dt.UTC) - _real_now()).total_seconds())
    return result


def describe() -> str:
    moment = configured_moment()
    if moment is None:
        return f"clock: real ({VARIABLE} unset)"
    return f"clock: {VARIABLE}={moment.isoformat()} (time-machine, ticking)"


# pytest plugin hooks


def pytest_configure(config) -> None:
    start()


def pytest_unconfigure(config) -> None:
    stop()


def pytest_report_header(config) -> str:
    return describe()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    # Also at the end: CI logs may run with --no-header.
    terminalreporter.write_line(describe())


def _main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m tests.clock (script.py | -m module) [args…]")
    start()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    _main(sys.argv[1:])
