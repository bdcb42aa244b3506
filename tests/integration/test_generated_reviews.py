"""A few generated SYNTHETIC reviews through real ``snakemake --directory`` (issue 14).

The in-process fuzz (tests/unit/test_whole_review_fuzz.py) calls every rule's ``main()``; this
checks the same generated folders through Snakemake itself: validation in the Snakefile,
the rules' wiring, and the outputs Snakemake expects.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from review_strategies import reviews
from test_whole_review_fuzz import check_review

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@settings(max_examples=2, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(review=reviews(max_studies=6, max_conditions=2))
def test_generated_reviews_run_through_snakemake(review):
    assume(review.outcomes)
    with tempfile.TemporaryDirectory() as tmp:
        root = review.write(Path(tmp))
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(root), "--cores", "2", "--quiet"]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        check_review(root, review)
