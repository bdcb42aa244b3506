"""Speed and memory of pooling (run with `make bench`; not part of the tests).

Targets: one analysis with k = 40 pools in < 50 ms for every estimator; 1,000 analyses of
k = 10 (REML, HKSJ) in < 30 s; peak memory of that batch < 200 MB. SYNTHETIC data.
"""

import resource
import time

import numpy as np

from metareview.stats.pooling import pool
from metareview.stats.tau2 import TAU2_METHODS


def main() -> int:
    rng = np.random.default_rng(20261121)
    failures = 0
    y, v = rng.normal(-1, 0.6, 40), rng.uniform(0.05, 0.6, 40)
    for method in TAU2_METHODS:
        start = time.perf_counter()
        pool(y, v, tau2_method=method, ci_method="hksj")
        ms = 1000 * (time.perf_counter() - start)
        ok = ms < 50
        failures += not ok
        print(f"k=40 {method:>4}: {ms:7.2f} ms {'ok' if ok else 'SLOW'}")
    start = time.perf_counter()
    for _ in range(1000):
        pool(rng.normal(-1, 0.6, 10), rng.uniform(0.05, 0.6, 10))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"1000 analyses (k=10, REML, hksj): {seconds:.2f} s; peak RSS {peak_mb:.0f} MB")
    failures += seconds >= 30 or peak_mb >= 200
    return int(failures > 0)


if __name__ == "__main__":
    raise SystemExit(main())
