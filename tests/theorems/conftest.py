"""Theorem suite: makes the shared helpers importable and provides the problems the tests share."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from convcheck import problems  # noqa: E402
from theorem_helpers import TiltedWell  # noqa: E402


@pytest.fixture(scope="session")
def soft_quartic():
    return problems.get("soft_quartic:n=1")


@pytest.fixture(scope="session")
def tilted_well():
    return TiltedWell(alpha=1.5)
