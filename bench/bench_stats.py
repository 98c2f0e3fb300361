"""Benchmark: adverse-event comparisons on a pooled-safety-sized table, and baseline tests.

Usage::

    .venv/bin/python bench/bench_stats.py              # 5,000 PT rows x 3 arms of ~1,500
    .venv/bin/python bench/bench_stats.py --rows 20000 --repeat 3

``ae_comparisons`` (vectorised Fisher's exact test and Newcombe risk differences, two
pairs against the reference arm) is timed against the per-row alternative, one
``scipy.stats.fisher_exact`` call per row and pair (p-values only). Event risks are drawn
from Beta(0.3, 10) (mostly rare preferred terms, a few common ones); a second scenario has
every row at 50% (the largest hypergeometric supports, the worst case). Also timed: the
continuous baseline tests for 3 arms of 5,000 subjects. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of
from scipy import stats

from trialreport.stats import ae_comparisons, compare_continuous


def _per_row_scipy(subjects: np.ndarray, N: np.ndarray) -> list[float]:
    return [stats.fisher_exact([[a, N[j] - a], [c, N[0] - c]]).pvalue
            for j in (1, 2) for a, c in zip(subjects[:, j], subjects[:, 0], strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    N = np.array([1500, 1480, 1520])
    rare = np.column_stack([rng.binomial(n, rng.beta(0.3, 10, args.rows)) for n in N])
    common = np.column_stack([rng.binomial(n, 0.5, args.rows) for n in N])
    ae_comparisons(rare[:10], N, reference=0)  # warm-up: library imports
    print(f"AE comparisons, {args.rows:,} rows x 2 pairs (arms of {', '.join(map(str, N))}):")
    for name, table in (("rare events", rare), ("every row at 50%", common)):
        t = best_of(lambda table=table: ae_comparisons(table, N, reference=0), args.repeat)
        print(f"  {name:18s} ae_comparisons {t:7.3f} s")
    t = best_of(lambda: _per_row_scipy(rare, N), 1)
    print(f"  {'rare events':18s} per-row scipy  {t:7.3f} s (p-values only)")
    groups = [rng.normal(50, 10, 5000).round(1) for _ in range(3)]
    compare_continuous(groups[:2], "mwu")  # warm-up
    print("Continuous baseline tests, 3 arms x 5,000 subjects:")
    for test in ("mwu", "kruskal", "anova", "welch"):
        data = groups[:2] if test == "mwu" else groups
        t = best_of(lambda data=data, test=test: compare_continuous(data, test), args.repeat)
        print(f"  {test:8s} {t:7.3f} s")


if __name__ == "__main__":
    main()
