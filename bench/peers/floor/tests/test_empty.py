"""Floor (i): an empty pytest test, BENCH_TESTS times."""

import os

import pytest

N = int(os.environ.get("BENCH_TESTS", "200"))


@pytest.mark.parametrize("i", range(N))
def test_empty(i):
    pass
