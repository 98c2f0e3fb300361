"""Benchmark: `trialreport validate` on a pooled-safety ADAE of about 200 MB.

Usage::

    .venv/bin/python bench/bench_validate.py              # ~200 MB ADAE; 1% and 90% broken
    .venv/bin/python bench/bench_validate.py --mb 50 --broken 0.001 --keep /tmp/vb

The synthetic trial of :mod:`trialreport.demodata.synthetic` is written to a temporary folder
(its CSV files and data specification); its adverse events are then made a pooled-safety ADAE:
start and end dates (``ASTDT``, ``AENDT``: the end missing for unresolved events) derived from
the subject's first dose, a row rule (end on or after start) and a cross-dataset rule (the study
day follows from the first dose in ADSL). A fraction ``--broken`` of the records then gets one
defect each, cycling through kinds a data manager meets (impossible date, value outside its
codelist, text in an integer column, required value missing, end before start, out-of-range
day), so the report path is measured too: by default once with 1% of the records broken and
once with 90% (about 1.2 million violations, the case that took 82 s and 2.5 GB before).

``trialreport validate --json`` runs in a fresh subprocess (started by a small measuring
process, so that no memory of the generator is counted); its wall-clock time
(``time.perf_counter``), CPU time (user + system, which a busy shared machine inflates less)
and peak resident memory (``resource.getrusage(RUSAGE_CHILDREN)``:
interpreter, libraries, data and report) are reported against the targets: 30 s and 1.5 GB on
this 2-core machine. The JSON report is read back to check that every injected defect was
found (a fast validator that misses defects is no good).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0
TARGET_BYTES = 1.5 * 1024**3
BYTES_PER_AE = 150  # CSV bytes per ADAE record with the two dates (measured), to size n_ae
DEFECTS = ("date", "codelist", "integer", "required", "order", "range")


def _pooled_adae(adae: pd.DataFrame, adsl: pd.DataFrame, seed: int) -> pd.DataFrame:
    """ADAE with start/end dates from each subject's first dose (text, ready to write)."""
    rng = np.random.default_rng(seed)
    first = adae["USUBJID"].map(adsl.set_index("USUBJID")["TRTSDT"])
    start = first + pd.to_timedelta(adae["ASTDY"].astype("int64") - 1, unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 60, len(adae)), unit="D")
    unresolved = rng.random(len(adae)) < 0.1
    out = adae.astype(object).where(adae.notna(), "")
    out.insert(out.columns.get_loc("ASTDY"), "ASTDT", start.dt.strftime("%Y-%m-%d"))
    out.insert(out.columns.get_loc("ASTDY"), "AENDT",
               end.dt.strftime("%Y-%m-%d").where(~unresolved, ""))
    out.loc[unresolved, "AEOUT"] = "NOT RECOVERED/NOT RESOLVED"
    return out


def _break(adae: pd.DataFrame, fraction: float, seed: int) -> list[tuple[int, str, str]]:
    """Give ``fraction`` of the records one defect each; returns (file row, column, kind)."""
    rng = np.random.default_rng(seed + 1)
    rows = np.sort(rng.choice(len(adae), int(len(adae) * fraction), replace=False))
    kinds = np.arange(len(rows)) % len(DEFECTS)
    columns = {"date": "ASTDT", "codelist": "AESEV", "integer": "AESEQ",
               "required": "AEDECOD", "order": "AENDT", "range": "ASTDY"}
    values = {"date": "2021-02-30", "codelist": "VERY SEVERE", "integer": "1e3",
              "required": "", "order": "1999-01-01", "range": "4000"}
    injected = []
    for k, kind in enumerate(DEFECTS):
        at = rows[kinds == k]
        if kind == "order":  # an end date before the start, on a resolved event
            adae.iloc[at, adae.columns.get_loc("AEOUT")] = "RECOVERED/RESOLVED"
        adae.iloc[at, adae.columns.get_loc(columns[kind])] = values[kind]
        injected += [(int(r) + 2, columns[kind], kind) for r in at]  # header is line 1
    return injected


def build(folder: Path, mb: float, broken: float, seed: int = 20240101) -> dict:
    """Write the trial with a ~``mb`` MB pooled ADAE into ``folder``; returns its facts."""
    from trialreport.demodata.synthetic import make_synthetic_trial, write_synthetic_trial
    from trialreport.demodata.synthetic_spec import dump_dataset_spec

    n_ae = int(mb * 1e6 / BYTES_PER_AE)
    n_subjects = max(1000, n_ae // 60)
    paths = write_synthetic_trial(folder, n_subjects=n_subjects, n_ae=1, seed=seed)
    _, frames = make_synthetic_trial(n_subjects, n_ae, seed=seed)
    adae = _pooled_adae(frames["adae"], frames["adsl"], seed)
    injected = _break(adae, broken, seed)
    adae_csv = paths["data"] / "adae.csv"
    adae.to_csv(adae_csv, index=False, lineterminator="\n", encoding="utf-8")

    spec_file = paths["spec"] / "adae.yml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    at = [v["name"] for v in spec["variables"]].index("ASTDY")
    spec["variables"][at:at] = [
        {"name": "ASTDT", "label": "Analysis start date", "type": "date", "required": True},
        {"name": "AENDT", "label": "Analysis end date", "type": "date", "required": False}]
    spec["rules"].append({"id": "ADAE-03", "description": "An event ends on or after it starts",
                          "check": "AENDT.isna() | (ASTDT <= AENDT)", "columns": ["AENDT"]})
    spec_file.write_text(dump_dataset_spec(spec), encoding="utf-8")
    with (paths["spec"] / "rules.yml").open("a", encoding="utf-8") as rules:
        rules.write("  - {id: X-90, description: Study day follows from the first dose, "
                    "type: expression, dataset: ADAE, join: ADSL, "
                    "check: 'ASTDY == (ASTDT - TRTSDT_ADSL).dt.days + 1', columns: [ASTDY]}\n")
    return {"data": paths["data"], "spec": paths["spec"], "records": len(adae),
            "bytes": adae_csv.stat().st_size, "injected": injected}


def _measure_here(data: str, spec: str, out: str) -> dict:
    """Run ``trialreport validate`` as a child of this (small) process and measure it."""
    cmd = [str(Path(sys.executable).parent / "trialreport"), "validate", "--data", data,
           "--spec", spec, "--json", out]
    env = {**os.environ, "TRIALREPORT_MAX_FILE_MB": "2048"}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_bytes": usage.ru_maxrss * 1024, "status": done.returncode,
            "stdout_lines": done.stdout.count("\n"), "stderr": done.stderr[-2000:]}


def measure(facts: dict, out: Path) -> dict:
    """Seconds, CPU seconds, peak RSS and exit status of ``trialreport validate``.

    It runs under a fresh, small Python process: a child forked straight from this one would
    start with this process's memory (the generated trial) counted in its peak.
    """
    cmd = [sys.executable, __file__, "--measure", str(facts["data"]), str(facts["spec"]),
           str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def found_all(facts: dict, report_file: Path) -> tuple[int, int]:
    """(injected defects found in the JSON report, injected defects)."""
    report = json.loads(report_file.read_text(encoding="utf-8"))
    seen = {(v["row"], v["variable"]) for v in report["violations"]
            if v["file"].endswith("adae.csv")}
    hits = sum((row, column) in seen for row, column, _ in facts["injected"])
    return hits, len(facts["injected"])


def scenario(mb: float, broken: float, keep: Path | None) -> dict:
    """Build one trial, validate it and return the measurements."""
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        folder = keep / f"broken-{broken:g}" if keep else Path(tmp)
        t0 = time.perf_counter()
        facts = build(folder, mb, broken)
        print(f"built {facts['records']:,} ADAE records ({facts['bytes'] / 1e6:,.0f} MB, "
              f"{len(facts['injected']):,} defects) in {time.perf_counter() - t0:.0f} s",
              flush=True)
        out = folder / "violations.json"
        result = measure(facts, out)
        if result["status"] not in (0, 1) or not out.exists():
            print(f"validate failed (exit {result['status']}):\n{result['stderr']}")
            return {**result, "ok": False}
        hits, total = found_all(facts, out)
    ok_time = result["seconds"] <= TARGET_SECONDS
    ok_mem = result["peak_bytes"] <= TARGET_BYTES
    print(f"validate: {result['seconds']:.1f} s ({'ok' if ok_time else 'MISSED'} <= "
          f"{TARGET_SECONDS:.0f} s; CPU {result['cpu_seconds']:.1f} s), peak RSS "
          f"{result['peak_bytes'] / 1024**3:.2f} GB "
          f"({'ok' if ok_mem else 'MISSED'} <= {TARGET_BYTES / 1024**3:.1f} GB), exit "
          f"{result['status']}, {result['stdout_lines']:,} lines printed; injected defects "
          f"found: {hits:,} of {total:,}", flush=True)
    return {**result, "ok": ok_time and ok_mem and hits == total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="ADAE size in MB (about)")
    parser.add_argument("--broken", type=float, nargs="+", default=[0.01, 0.9],
                        help="fractions of ADAE records given one defect each, one run each "
                             "(default: 1%% and 90%%, a file broken throughout)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(_measure_here(*args.measure)))
        return 0
    ok = True
    for broken in args.broken:
        print(f"-- {broken:.0%} of the records broken", flush=True)
        ok &= scenario(args.mb, broken, args.keep)["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
