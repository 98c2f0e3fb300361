"""Benchmark: cold render of all three formats, no-change re-render and prose-edit re-render.

Usage::

    .venv/bin/python bench/bench_render.py

The project is copied (without .git, .cache, report/ and the virtual environment) into a
temporary folder and rendered there with ``python -m trialreport render --engine builtin``, so
the developer's cache and report are not touched. Times are wall-clock seconds of the whole
command (start-up, validation, execution, pandoc, typst). Targets: cold render within 60 s;
no-change and prose-edit re-renders at most a tenth of the cold render.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trialreport.paths import copy_project

ROOT = Path(__file__).resolve().parents[1]
COLD_TARGET = 60.0
RATIO_TARGET = 0.10


def _render(project: Path, *extra: str) -> float:
    env = {**os.environ, "TRIALREPORT_PROJECT": str(project)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "trialreport", "render", "--engine", "builtin",
                    "--output", str(project / "report"), *extra], cwd=project, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="trialreport-bench-") as tmp:
        project = copy_project(ROOT, Path(tmp) / "project")
        cold = _render(project)
        unchanged = _render(project)
        chapter = project / "chapters" / "04-baseline.qmd"
        chapter.write_text(chapter.read_text(encoding="utf-8").replace(
            "The arms were similar at baseline.",
            "The arms were similar at baseline in every characteristic."), encoding="utf-8")
        prose = _render(project)
    rows = [
        ("cold render (html, docx, pdf)", cold, f"<= {COLD_TARGET:.0f} s", cold <= COLD_TARGET),
        ("no-change re-render", unchanged, f"<= {RATIO_TARGET:.0%} of cold",
         unchanged <= RATIO_TARGET * cold),
        ("prose-edit re-render", prose, f"<= {RATIO_TARGET:.0%} of cold",
         prose <= RATIO_TARGET * cold),
    ]
    print(f"{'render':32} {'seconds':>8} {'x cold':>7}  target")
    for name, seconds, target, ok in rows:
        print(f"{name:32} {seconds:8.2f} {seconds / cold:7.3f}  {target}  "
              f"{'met' if ok else 'MISSED'}")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
