"""Benchmark: cold render of all three formats, no-change re-render and prose-edit re-renders
(HTML only, as ``trialreport preview`` does on every save, and all three formats), with the
time of each phase.

Usage::

    .venv/bin/python bench/bench_render.py [--repeat N]

The project is copied (without .git, .cache, report/ and the virtual environment) into a
temporary folder and rendered there with ``python -m trialreport render --engine builtin``, so
the developer's cache and report are not touched. Times are wall-clock seconds of the whole
command (start-up, validation, execution, pandoc, typst); "CPU" is the processor time of the
command and every process it started (kernels included), which depends much less than the
wall clock on what else the machine is doing. Each measure is repeated ``--repeat`` times
(from a fresh copy for the cold render) and the best run is reported, with the load average
seen at the start of the runs, because the machine may be shared.

Targets: cold render within 15 s on 2 cores; no-change and prose-edit re-renders within 1 s.
The three-format prose edit is bound by the Word path (pandoc's docx writer, then LibreOffice
laying out the document for the page numbers of the contents, about 2 s on its own).
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

from trialreport.paths import copy_project

ROOT = Path(__file__).resolve().parents[1]
COLD_TARGET = 15.0
RERENDER_TARGET = 1.0
PROSE_CHAPTER = Path("chapters") / "04-baseline.qmd"
PROSE_FROM = "As advised for randomised trials"
# Phases in the order they happen; a render reports the ones it went through.
PHASES = [
    ("validate", "validation (inputs key, data checked against the specification)"),
    ("kernel warm-up", "kernel server ready (from its start, beside the validation)"),
    ("kernel warm-up: imports", "  of which imports (pandas, scipy, matplotlib, ...)"),
    ("kernel warm-up: warm-up code", "  of which data load, validation and ARD (once)"),
    ("execute", "chapter execution (forked kernels, 2+ at a time)"),
    ("ARD and figure files (beside the chapters)", "ard.json and figure files (a thread)"),
    ("assemble", "assembly of the pandoc document"),
    ("pandoc html", "pandoc -> HTML"),
    ("pandoc docx", "pandoc -> Word"),
    ("docx post-processing", "Word post-processing"),
    ("pandoc pdf", "pandoc -> typst"),
    ("typst", "typst -> PDF"),
    ("convert", "all conversions (side by side)"),
    ("publish", "publication (atomic folder swap)"),
    ("total", "whole command, as it measures itself"),
]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _render(project: Path, *formats: str) -> dict[str, float]:
    """One ``trialreport render``: wall and CPU seconds plus the phases it reports."""
    env = {**os.environ, "TRIALREPORT_PROJECT": str(project)}
    timings = project / ".cache" / "bench-timings.json"
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "trialreport", "render", "--engine", "builtin",
                    "--output", str(project / "report"), "--timings", str(timings),
                    *(["--format", ",".join(formats)] if formats else [])],
                   cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)
    result = {"wall": time.perf_counter() - start, "cpu": _children_cpu() - cpu}
    result.update(json.loads(timings.read_text(encoding="utf-8")))
    return result


def _edit_prose(project: Path, round_: int) -> None:
    chapter = project / PROSE_CHAPTER
    text = chapter.read_text(encoding="utf-8")
    marker = PROSE_FROM
    start = text.index(marker)
    end = text.index(".", start) + 1
    chapter.write_text(text[:start] + f"{marker} (edit {round_})." + text[end:], encoding="utf-8")


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return min(runs, key=lambda r: r["wall"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (best kept)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    cold_runs: list[dict[str, float]] = []
    unchanged_runs: list[dict[str, float]] = []
    prose_runs: list[dict[str, float]] = []
    html_runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="trialreport-bench-") as tmp:
        for i in range(max(1, args.repeat)):
            project = copy_project(ROOT, Path(tmp) / f"project{i}")
            if PROSE_FROM not in (project / PROSE_CHAPTER).read_text(encoding="utf-8"):
                raise SystemExit(f"{PROSE_CHAPTER} no longer says {PROSE_FROM!r}; update the bench")
            cold_runs.append(_render(project))
        project = Path(tmp) / "project0"
        for i in range(max(1, args.repeat)):
            unchanged_runs.append(_render(project))
            _edit_prose(project, i)
            prose_runs.append(_render(project))
        preview = copy_project(ROOT, Path(tmp) / "preview")
        _render(preview, "html")
        for i in range(max(1, args.repeat)):
            _edit_prose(preview, i)
            html_runs.append(_render(preview, "html"))
    load_after = os.getloadavg()
    cold, unchanged, prose = _best(cold_runs), _best(unchanged_runs), _best(prose_runs)
    rows = [
        ("cold render (html, docx, pdf)", cold, COLD_TARGET),
        ("no-change re-render", unchanged, RERENDER_TARGET),
        ("prose-edit re-render, HTML", _best(html_runs), RERENDER_TARGET),
        ("prose-edit re-render, 3 formats", prose, RERENDER_TARGET),
    ]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cpus} CPUs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"(other processes share the CPUs); best of {max(1, args.repeat)} runs each")
    print(f"{'render':32} {'seconds':>8} {'CPU s':>7} {'all runs':>22}  target")
    for (name, best, target), runs in zip(rows, (cold_runs, unchanged_runs, html_runs,
                                                 prose_runs), strict=True):
        all_runs = " ".join(f"{r['wall']:.1f}" for r in runs)
        ok = best["wall"] <= target
        print(f"{name:32} {best['wall']:8.2f} {best['cpu']:7.2f} {all_runs:>22}  "
              f"<= {target:g} s  {'met' if ok else 'MISSED'}")
    for name, best, _ in rows:
        print(f"\nphases of the best {name} (wall-clock seconds; some overlap):")
        for key, label in PHASES:
            if key in best:
                print(f"  {label:68} {best[key]:6.2f}")
    return 0 if all(best["wall"] <= target for _, best, target in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
