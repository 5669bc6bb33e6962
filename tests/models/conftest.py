"""Fixtures shared by the models tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.models.builders import make_counts


@pytest.fixture
def counts() -> pd.Series:
    """A 48-month series of moderate counts."""
    return make_counts(48, 4.0, seed=1)
