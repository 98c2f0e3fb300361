"""Benchmark: ``trialreport init`` on a 250-subject three-arm ADaM delivery, then its cold render.

Usage::

    .venv/bin/python bench/bench_init.py

The delivery is the synthetic SAS trial (SAS transport files + define.xml, with efficacy and
time-to-event datasets). ``trialreport init`` and ``trialreport render --engine builtin`` run as
a new user runs them: in a temporary folder outside the repository, ``TRIALREPORT_PROJECT``
unset. Times are wall-clock seconds of each whole command. Target: the cold render within 60 s
on 2 cores (init itself is reported, it validates and computes every result once).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trialreport.demodata.sas_trial import write_sas_trial

N_SUBJECTS = 250
ARMS = 3
COLD_TARGET = 60.0
ENV = ("TRIALREPORT_PROJECT", "TRIALREPORT_DATA", "TRIALREPORT_STUDY", "TRIALREPORT_ENGINE")


def _timed(cwd: Path, *argv: str) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "trialreport", *argv], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="trialreport-bench-init-") as tmp:
        work = Path(tmp)
        write_sas_trial(work / "adam", n_subjects=N_SUBJECTS, arms=ARMS)
        init = _timed(work, "init", "study", "--data", str(work / "adam"))
        cold = _timed(work / "study", "render", "--engine", "builtin")
        pages = len(list((work / "study" / "report").glob("*.pdf")))
    load = os.getloadavg()[0]
    print(f"{N_SUBJECTS} subjects, {ARMS} arms (SAS transport + define.xml); "
          f"{os.cpu_count()} cores, load average {load:.1f} (a busy machine slows every step)")
    print(f"{'step':40} {'seconds':>8}  target")
    print(f"{'trialreport init':40} {init:8.2f}  (reported)")
    ok = cold <= COLD_TARGET and pages == 1
    print(f"{'cold render of the new study (3 formats)':40} {cold:8.2f}  <= {COLD_TARGET:.0f} s  "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
