"""Shared fixtures. Synthetic data here is invented for tests, never real trial results."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo() -> Path:
    return REPO
