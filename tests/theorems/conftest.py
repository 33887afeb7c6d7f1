"""Theorem suite: makes the shared helpers importable and provides the locally defined problems."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from theorem_helpers import SoftQuartic, TiltedWell  # noqa: E402


@pytest.fixture(scope="session")
def soft_quartic():
    return SoftQuartic(n=1)


@pytest.fixture(scope="session")
def tilted_well():
    return TiltedWell(alpha=1.5)
