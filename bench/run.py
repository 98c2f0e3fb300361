"""`make bench`: every benchmark of the project in one run (ratios from the same run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for script in ("bench_ard.py", "bench_validate.py", "bench_render.py", "bench_init.py",
                   "bench_stats.py"):
        print(f"\n== {script} ==", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script)]).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
