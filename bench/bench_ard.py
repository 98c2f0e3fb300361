"""Benchmark: time and peak memory of the whole ARD, and the baseline table against tableone.

Usage::

    .venv/bin/python bench/bench_ard.py                 # shipped data + 10,000-subject trial
    .venv/bin/python bench/bench_ard.py --subjects 20000 --aes 600000 --repeat 5

Each scenario runs in a fresh subprocess so its peak resident memory (``ru_maxrss``) is its
own. Timings are the best of ``--repeat`` runs (``time.perf_counter``); "ARD" is
``build_ard(data)`` on already-loaded frames (validation of the shipped CSVs is timed apart),
"baseline" is ``baseline_ard(data)`` and "tableone" is ``tableone.TableOne`` on the same
population, variables, grouping and tests (median/IQR for continuous variables, p-values on).
Peak memory: the process's maximum RSS (interpreter, libraries and data included) and the
tracemalloc peak of one extra ``build_ard`` call (Python + numpy allocations of the build only).
Targets: 10,000 subjects with 300,000 AE records within 5 s and 2 GB; the pooled-safety scale,
100,000 subjects with 3,000,000 AE records, within 5 s and 1 GB (``--large``, run by
``make bench``); baseline no slower than tableone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

from _timing import best_of

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 5.0
TARGET_BYTES = 2 * 1024**3
LARGE = (100_000, 3_000_000)
LARGE_TARGET_BYTES = 1 * 1024**3


def _tableone_inputs(data):
    """The baseline population as a plain frame and TableOne's arguments."""
    from trialreport.analysis_sets import ARM, population_adsl

    section = data.study.model.baseline
    pop = population_adsl(data, section.population)
    variables = [v for v in section.variables if v.name in pop]
    frame = pop[[v.name for v in variables]].copy()
    for v in variables:  # nullable Int64 -> float/object, which TableOne handles
        if v.type == "continuous":
            frame[v.name] = frame[v.name].astype(float)
        else:
            frame[v.name] = frame[v.name].astype(object).where(frame[v.name].notna())
            frame[v.name] = frame[v.name].map(lambda x: x if x is None else str(x))
    frame["_group"] = pop[ARM].astype(str).to_numpy()
    continuous = [v.name for v in variables if v.type == "continuous"]
    categorical = [v.name for v in variables if v.type != "continuous"]
    kwargs = dict(columns=continuous + categorical, categorical=categorical,
                  nonnormal=continuous, groupby="_group", pval=True)
    return frame, kwargs


def worker(scenario: str, subjects: int, aes: int, repeat: int) -> dict:
    """Run one scenario in this process and return its measurements."""
    import resource

    from tableone import TableOne

    from trialreport.ard import build_ard
    from trialreport.data import load_trial, trial_from_frames
    from trialreport.families.baseline import compute as baseline_rows
    from trialreport.study import study_from_mapping

    result: dict = {"scenario": scenario}
    if scenario == "shipped":
        t0 = time.perf_counter()
        data = load_trial(ROOT / "data", ROOT / "data_spec", ROOT / "data_spec" / "study.yml")
        result["load_s"] = time.perf_counter() - t0
    else:
        from trialreport.demodata.synthetic import make_synthetic_trial

        t0 = time.perf_counter()
        raw, frames = make_synthetic_trial(subjects, aes, arms=3, seed=20240101)
        data = trial_from_frames(study_from_mapping(raw), frames)  # text held as loaded
        del frames  # the generator's object columns: only the loaded form stays in memory
        result["load_s"] = time.perf_counter() - t0
    result["subjects"] = len(data.adsl)
    result["ae_records"] = len(data["adae"]) if "adae" in data else 0

    def build():  # a fresh build each time: no derived frame reused from a previous build
        data.cache.clear()
        return build_ard(data)

    ard = build()  # warm-up (imports)
    result["ard_rows"] = len(ard.frame)
    result["ard_s"] = best_of(build, repeat)
    spec = data.study.output("baseline")
    result["baseline_s"] = best_of(lambda: baseline_rows(data, spec), repeat)
    if scenario == "large":  # tableone on 100,000 rows is not the point of this scenario
        result["tableone_s"] = float("nan")
        result["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        tracemalloc.start()
        build()
        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result
    frame, kwargs = _tableone_inputs(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        TableOne(frame, **kwargs)
        result["tableone_s"] = best_of(lambda: TableOne(frame, **kwargs), repeat)
    result["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    build()
    result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result


def _run(scenario: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", scenario, "--subjects", str(args.subjects),
           "--aes", str(args.aes), "--repeat", str(args.repeat)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mb(x: float) -> str:
    return f"{x / 1024**2:,.0f} MB"


def _peak(r: dict) -> str:
    peak = r["tracemalloc_peak_bytes"]
    return _mb(peak) if peak == peak else "-"  # NaN: not measured


def report(results: list[dict]) -> str:
    """A small plain-text table."""
    head = (f"{'scenario':<12} {'subjects':>8} {'AEs':>8} {'ARD rows':>8} {'load s':>7} "
            f"{'ARD s':>7} {'peak RSS':>9} {'tracemalloc':>11} {'baseline s':>10} "
            f"{'tableone s':>10} {'ratio':>6}")
    lines = [head, "-" * len(head)]
    for r in results:
        ratio = r["baseline_s"] / r["tableone_s"] if r["tableone_s"] == r["tableone_s"] \
            else float("nan")
        lines.append(
            f"{r['scenario']:<12} {r['subjects']:>8,} {r['ae_records']:>8,} {r['ard_rows']:>8,} "
            f"{r['load_s']:>7.3f} {r['ard_s']:>7.3f} {_mb(r['maxrss_bytes']):>9} "
            f"{_peak(r):>11} {r['baseline_s']:>10.4f} "
            f"{r['tableone_s']:>10.4f} {ratio:>6.2f}")
    lines.append("ratio = baseline / tableone (below 1: the ARD baseline is faster)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--aes", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large", action=argparse.BooleanOptionalAction, default=True,
                        help="also the 100,000-subject, 3,000,000-AE trial (default: on)")
    parser.add_argument("--worker", choices=["shipped", "synthetic", "large"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.subjects, args.aes, args.repeat)))
        return 0
    results = [_run("shipped", args), _run("synthetic", args)]
    if args.large:
        large = argparse.Namespace(**{**vars(args), "subjects": LARGE[0], "aes": LARGE[1],
                                      "repeat": 1})
        results.append(_run("large", large))
    print(report(results))
    big = results[1]
    ok_time = big["ard_s"] <= TARGET_SECONDS
    ok_mem = big["maxrss_bytes"] <= TARGET_BYTES
    ok_base = all(r["baseline_s"] <= r["tableone_s"] for r in results[:2])
    print(f"target {big['subjects']:,} subjects: ARD {big['ard_s']:.2f} s "
          f"({'ok' if ok_time else 'MISSED'} <= {TARGET_SECONDS:.0f} s), peak RSS "
          f"{_mb(big['maxrss_bytes'])} ({'ok' if ok_mem else 'MISSED'} <= 2 GB); baseline vs "
          f"tableone: {'ok' if ok_base else 'MISSED'}")
    ok_large = True
    if args.large:
        lg = results[2]
        build_bytes = lg["tracemalloc_peak_bytes"]
        ok_large = lg["ard_s"] <= TARGET_SECONDS and build_bytes <= LARGE_TARGET_BYTES
        print(f"target {lg['subjects']:,} subjects, {lg['ae_records']:,} AEs: ARD "
              f"{lg['ard_s']:.2f} s, {_mb(build_bytes)} allocated by the build at its peak "
              f"({'ok' if ok_large else 'MISSED'} <= {TARGET_SECONDS:.0f} s and 1 GB); peak "
              f"RSS of the whole process {_mb(lg['maxrss_bytes'])} (generating the trial in "
              "memory included)")
    return 0 if ok_time and ok_mem and ok_base and ok_large else 1


if __name__ == "__main__":
    sys.exit(main())
