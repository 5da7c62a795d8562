"""Loading the data: the full MNIST from gzip, from the decompressed cache, the sample.

Figures (medians of a few loads in this one run):

- ``data_full_gzip_load_s``: ``load_idx_dir`` on the four .gz files without the cache
  (inflating 55 MB). Needs ``BPVIZ_MNIST_DIR``; absent figures are left out.
- ``data_full_cached_load_s``: the same with the decompressed copy in the cache.
  Target: well under a second (≤ 0.2).
- ``data_cache_speedup``: the ratio of the two.
- ``data_sample_load_s``: the embedded sample (npz inflate), uncached.

Run alone: ``python3 benchmarks/bench_data.py [--quick] [--json]``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bpviz.data import load_idx_dir
from bpviz.data.sample import SAMPLE_FILE, load_sample_file, resources_dir


def median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(quick: bool = False) -> dict[str, float]:
    repeats = 3 if quick else 7
    sample = resources_dir() / SAMPLE_FILE  # this checkout's, run from it
    figures = {"data_sample_load_s": median_seconds(lambda: load_sample_file(sample), repeats)}
    mnist = os.environ.get("BPVIZ_MNIST_DIR")
    if mnist and Path(mnist).is_dir():
        with tempfile.TemporaryDirectory() as cache:
            gzip_s = median_seconds(lambda: load_idx_dir(mnist, cache_dir=False), repeats)
            load_idx_dir(mnist, cache_dir=Path(cache))  # fill the cache
            cached_s = median_seconds(lambda: load_idx_dir(mnist, cache_dir=Path(cache)), repeats)
        figures |= {
            "data_full_gzip_load_s": gzip_s,
            "data_full_cached_load_s": cached_s,
            "data_cache_speedup": gzip_s / cached_s,
        }
    return {key: round(value, 4) for key, value in figures.items()}


if __name__ == "__main__":
    import standalone

    standalone.main(run, __doc__)
