"""The backend suite's test settings (cheap Argon2, test secret key), without its fixtures."""

import tests.conftest  # noqa: F401
