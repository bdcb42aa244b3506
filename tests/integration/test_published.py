"""The committed published results regenerate byte for byte from data/raw/."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_published_results_reproduce():
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "published.py"), "check"],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
