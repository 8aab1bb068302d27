"""Run the A/B measurements as the backend's own suite runs (see ../workloads/fastsuite)."""

from ab_patterns import report
from tests.conftest import *  # noqa: F403
from tests.conftest import _fresh_login_throttle  # noqa: F401


def pytest_terminal_summary(terminalreporter):
    for line in report():
        terminalreporter.write_line(line)
