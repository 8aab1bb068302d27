"""Run the workload as the backend's own suite runs: with backend/tests/conftest.py.

That conftest is not an ancestor of this directory, so pytest would not load it here; importing
it applies its test settings (cheap Argon2, test secret key, in-memory database) before the app
reads them, and registers its fixtures, the autouse one included.
"""

from tests.conftest import *  # noqa: F403
from tests.conftest import _fresh_login_throttle  # noqa: F401
