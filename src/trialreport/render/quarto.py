"""The ``quarto`` engine: delegate to ``quarto render`` when Quarto is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .project import ProjectError, load_project
from .result import ChapterTiming, RenderError, RenderResult

QUARTO_TARGET = {"html": "html", "docx": "docx", "pdf": "typst"}


def quarto_path() -> str | None:
    return shutil.which("quarto")


def render_quarto(
    project_dir: Path,
    output_dir: Path | None,
    formats: Sequence[str],
    refresh: bool,
    env: Mapping[str, str] | None,
    progress: Callable[[str], None],
) -> RenderResult:
    """Run ``quarto render <project> --to ...`` into a temporary folder, then move the files.

    Quarto's book HTML is a multi-page site: it is moved as a folder ``<stem>_html/`` and
    ``outputs["html"]`` points at its ``index.html``. docx and PDF are single files.
    """
    quarto = quarto_path()
    if quarto is None:
        raise RenderError("engine 'quarto' requested but `quarto` is not on PATH")
    start = time.perf_counter()
    try:
        project = load_project(project_dir)
    except ProjectError as exc:
        raise RenderError(str(exc)) from exc
    out_dir = Path(output_dir).resolve() if output_dir else project.output_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".trialreport-quarto-", dir=out_dir.parent))
    to = ",".join(QUARTO_TARGET[f] for f in formats)
    cmd = [quarto, "render", str(project.root), "--to", to, "--output-dir", str(tmp)]
    if refresh:
        cmd.append("--cache-refresh")
    full_env = dict(os.environ)
    full_env.update({k: str(v) for k, v in (env or {}).items()})
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=project.root,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            log.append(line)
            if line.strip():
                progress(line)
        if proc.wait() != 0:
            raise RenderError("quarto render failed:\n" + "\n".join(log[-60:]))
        outputs = _collect(tmp, out_dir, project.output_stem, formats)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    chapters = [ChapterTiming(c.path, 0.0, True) for c in project.chapters]
    return RenderResult(
        outputs=outputs,
        chapters=chapters,
        engine="quarto",
        executed=[c.path for c in chapters],
        seconds=time.perf_counter() - start,
    )


def _collect(tmp: Path, out_dir: Path, stem: str, formats: Sequence[str]) -> dict[str, Path]:
    staged: dict[str, Path] = {}
    for fmt in formats:
        if fmt == "html":
            if not (tmp / "index.html").is_file():
                raise RenderError(f"quarto produced no index.html in {tmp}")
            continue
        found = tmp / f"{stem}.{fmt}"
        if not found.is_file():
            matches = sorted(tmp.rglob(f"*.{fmt}"))
            if not matches:
                raise RenderError(f"quarto produced no .{fmt} file")
            found = matches[0]
        staged[fmt] = found
    out_dir.mkdir(parents=True, exist_ok=True)
    final: dict[str, Path] = {}
    for fmt, path in staged.items():
        target = out_dir / f"{stem}.{fmt}"
        os.replace(path, target)
        final[fmt] = target
    if "html" in formats:
        site = out_dir / f"{stem}_html"
        if site.exists():
            shutil.rmtree(site)
        site.mkdir()
        for item in tmp.iterdir():
            shutil.move(str(item), site / item.name)
        final["html"] = site / "index.html"
    return final
