"""The builtin engine: execute chapters (cached), assemble, pandoc, typst, move into place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trialreport.versioning import pandoc_version

from . import pandoc as pandoc_mod
from .assemble import ChapterAssembler, book_metadata, write_metadata
from .cache import RenderCache, fingerprint_paths, hash_text
from .docx_post import postprocess_docx
from .execute import (
    ChapterExecutionError,
    ChapterRun,
    ExecutionResult,
    execute_many,
    kernel_env,
    kernel_spec_dir,
    run_async,
)
from .project import BookProject, ProjectError, load_project
from .qmd import QmdDocument, QmdSyntaxError, parse_qmd
from .result import ChapterTiming, RenderError, RenderResult
from .syntax import SUPPORTED_LANGS
from .typst_pdf import TypstCompileError, compile_pdf, typst_version

FINAL_SUFFIX = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}
#: Chapters executed concurrently (each in its own kernel).
PARALLEL_KERNELS = 2
_RENDERER_FILES = r"\.(py|lua|typ|css|docx)$"


def data_dir_for(project_dir: Path, env: Mapping[str, str] | None) -> Path:
    """The data folder chapters read: ``TRIALREPORT_DATA`` (env, then os.environ) or data/."""
    value = (env or {}).get("TRIALREPORT_DATA") or os.environ.get("TRIALREPORT_DATA")
    path = Path(value) if value else Path("data")
    return path if path.is_absolute() else (project_dir / path)


def package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def package_fingerprint() -> str:
    """Fingerprint of the trialreport package source (``src/trialreport/**/*.py``)."""
    return fingerprint_paths([package_dir()], pattern=r"\.py$")


def common_fingerprint(project_dir: Path, env: Mapping[str, str] | None) -> str:
    """Everything every chapter's execution depends on besides its own code: the data, the
    specification and study definition, the files chapters read for the document history and
    version (CHANGELOG.md, pyproject.toml), the package source and the environment."""
    data = fingerprint_paths([data_dir_for(project_dir, env), project_dir / "data_spec",
                              project_dir / "CHANGELOG.md", project_dir / "pyproject.toml"])
    source = package_fingerprint()
    env_text = json.dumps(sorted((env or {}).items()))
    return hash_text(data, source, env_text)


def chapter_key(doc: QmdDocument, project: BookProject, common: str) -> str:
    """Cache key of a chapter's execution: its code, cell options, inline expressions."""
    signature = {
        "cells": [[c.lang, c.source, c.options] for c in doc.cells],
        "inline": [e.expr for e in doc.inline_exprs()],
        "execute": [project.execute, doc.front_matter.get("execute")],
    }
    return hash_text(json.dumps(signature, sort_keys=True, default=str), common)


def _load_docs(project: BookProject) -> list[QmdDocument]:
    docs = []
    for entry in project.chapters:
        path = project.root / entry.path
        try:
            docs.append(parse_qmd(path.read_text(encoding="utf-8"), entry.path))
        except QmdSyntaxError as exc:
            raise RenderError(f"{entry.path}: {exc}", chapter=entry.path) from exc
        for cell in docs[-1].cells:
            if cell.lang not in SUPPORTED_LANGS:
                raise RenderError(
                    f"{entry.path}:{cell.line}: `{{{cell.lang}}}` cells are not supported by the"
                    " builtin engine (only {python})",
                    chapter=entry.path,
                    cell=cell.display_name(),
                    line=cell.line,
                )
    return docs


def _execute(
    project: BookProject,
    docs: list[QmdDocument],
    cache: RenderCache,
    refresh: bool,
    env: Mapping[str, str] | None,
    progress: Callable[[str], None],
) -> tuple[list[ExecutionResult], list[ChapterTiming]]:
    total = len(docs)
    common = common_fingerprint(project.root, env)
    keys = [chapter_key(doc, project, common) for doc in docs]
    results: list[ExecutionResult | None] = [None] * total
    timings: list[ChapterTiming | None] = [None] * total
    runs: list[ChapterRun] = []
    for i, doc in enumerate(docs):
        cached = None if refresh else cache.load_execution(doc.path, keys[i])
        if cached is not None:
            results[i] = ExecutionResult.from_json(cached)
            timings[i] = ChapterTiming(doc.path, 0.0, False)
            progress(f"[{i + 1}/{total}] {doc.path}  cached  0.0 s")
        elif not doc.cells:
            results[i] = ExecutionResult()
            timings[i] = ChapterTiming(doc.path, 0.0, False)
            progress(f"[{i + 1}/{total}] {doc.path}  no code  0.0 s")
        else:
            runs.append(ChapterRun(doc))
    if runs:
        index = {id(doc): i for i, doc in enumerate(docs)}

        def done(run: ChapterRun) -> None:
            i = index[id(run.doc)]
            assert run.result is not None
            cache.store_execution(run.doc.path, keys[i], run.result.to_json())
            results[i] = run.result
            timings[i] = ChapterTiming(run.doc.path, run.seconds, True)
            progress(f"[{i + 1}/{total}] {run.doc.path}  executed  {run.seconds:.1f} s")

        kernels = kernel_spec_dir(cache.root)
        kenv = kernel_env(env, project.root)
        try:
            run_async(
                lambda: execute_many(runs, project.root, kenv, kernels, PARALLEL_KERNELS, done)
            )
        except ChapterExecutionError as exc:
            where = exc.where
            if not where.startswith(("cell ", "inline ", "setup ")):
                where = f"cell `{where}`"
            lines = [ln for ln in exc.traceback.splitlines() if ln.strip()]
            summary = lines[-1].strip() if lines else "error"
            raise RenderError(
                f"{exc.chapter}: {where} (line {exc.line}) failed: {summary}\n\n{exc.traceback}",
                chapter=exc.chapter,
                cell=exc.where,
                line=exc.line,
                traceback=exc.traceback,
            ) from None
    return [r for r in results if r is not None], [t for t in timings if t is not None]


def _assemble(
    project: BookProject, docs: list[QmdDocument], results: list[ExecutionResult], build: Path
) -> Path:
    parts = []
    media = build / "media"
    for entry, doc, result in zip(project.chapters, docs, results, strict=True):
        parts.append(ChapterAssembler(project, entry, doc, result, media, "media").build())
    source = build / "book.md"
    source.write_text("\n\n".join(parts), encoding="utf-8")
    write_metadata(project, build / "metadata.yaml")
    return source


def _format_options(project: BookProject, fmt: str) -> dict[str, object]:
    opts = dict(project.format_options({"pdf": "typst"}.get(fmt, fmt)))
    ref = opts.get("reference-doc")
    if ref:
        opts["reference-doc"] = str((project.root / str(ref)).resolve())
    return opts


def _output_key(fmt: str, build: Path, project: BookProject, opts: Mapping[str, object]) -> str:
    """Hash of everything an output file is made from (inputs, renderer, settings)."""
    inputs = fingerprint_paths([build / "book.md", build / "metadata.yaml", build / "media"])
    renderer = fingerprint_paths(
        [pandoc_mod.resource_dir(), Path(__file__).parent], _RENDERER_FILES
    )
    extra = [json.dumps(dict(opts), sort_keys=True, default=str)]
    if opts.get("reference-doc"):
        extra.append(fingerprint_paths([Path(str(opts["reference-doc"]))]))
    versions = pandoc_version() + typst_version()
    settings = [project.running_header, project.output_stem, str(project.toc_depth)]
    return hash_text(fmt, inputs, renderer, versions, *settings, *extra)


def _convert(
    project: BookProject,
    formats: Sequence[str],
    build: Path,
    out: Path,
    cache: RenderCache,
    progress: Callable[[str], None],
) -> tuple[dict[str, Path], list[str]]:
    source = build / "book.md"
    stem = project.output_stem
    outputs: dict[str, Path] = {}
    warnings: list[str] = []
    jobs = []
    keys: dict[str, str] = {}
    for fmt in formats:
        opts = _format_options(project, fmt)
        keys[fmt] = _output_key(fmt, build, project, opts)
        hit = cache.load_output(fmt, keys[fmt])
        final = out / f"{stem}{FINAL_SUFFIX[fmt]}"
        if hit is not None:
            shutil.copy2(hit[0], final)
            outputs[fmt] = final
            warnings += [w for w in hit[1] if w not in warnings]
            continue
        resource_path = [build, project.root] + sorted(
            {(project.root / c.path).parent for c in project.chapters}
        )
        jobs.append(
            pandoc_mod.build_job(
                fmt,
                source,
                build / "metadata.yaml",
                build,
                stem,
                resource_path,
                project.toc_depth,
                opts,
            )
        )
    if not jobs:
        progress("outputs  cached  (inputs unchanged)")
        return outputs, warnings
    start = time.perf_counter()

    def finish(job: pandoc_mod.PandocJob) -> tuple[Path, list[str]]:
        """pandoc, then this format's own last step; formats run side by side."""
        final = out / f"{stem}{FINAL_SUFFIX[job.fmt]}"
        fmt_warnings = pandoc_mod.run_job(job, build)
        if job.fmt == "pdf":
            fmt_warnings += compile_pdf(job.output, final, build)
        else:
            if job.fmt == "docx":
                postprocess_docx(job.output, project.running_header, project.toc_depth,
                                 book_metadata(project))
            shutil.copy2(job.output, final)
        return final, fmt_warnings

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [(job, pool.submit(finish, job)) for job in jobs]
        for job, future in futures:
            try:
                final, fmt_warnings = future.result()
            except (pandoc_mod.PandocError, TypstCompileError) as exc:
                raise RenderError(str(exc)) from exc
            cache.store_output(job.fmt, keys[job.fmt], final, fmt_warnings)
            outputs[job.fmt] = final
            warnings += [w for w in fmt_warnings if w not in warnings]
    names = " ".join(j.fmt for j in jobs)
    progress(f"outputs  {names}  {time.perf_counter() - start:.1f} s")
    return outputs, warnings


def _move_into_place(outputs: dict[str, Path], output_dir: Path) -> dict[str, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    final: dict[str, Path] = {}
    for fmt, path in outputs.items():
        target = output_dir / path.name
        os.replace(path, target)
        final[fmt] = target
    return final


def render_builtin(
    project_dir: Path,
    output_dir: Path | None,
    formats: Sequence[str],
    refresh: bool,
    env: Mapping[str, str] | None,
    progress: Callable[[str], None],
) -> RenderResult:
    """Render with the builtin engine (see :func:`trialreport.render.render_book`)."""
    start = time.perf_counter()
    try:
        project = load_project(project_dir)
    except ProjectError as exc:
        raise RenderError(str(exc)) from exc
    out_dir = Path(output_dir).resolve() if output_dir else project.output_dir
    cache = RenderCache(project.root)
    docs = _load_docs(project)
    results, timings = _execute(project, docs, cache, refresh, env, progress)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".trialreport-render-", dir=out_dir.parent))
    try:
        build = tmp / "build"
        staged = tmp / "out"
        build.mkdir()
        staged.mkdir()
        _assemble(project, docs, results, build)
        outputs, warnings = _convert(project, formats, build, staged, cache, progress)
        for line in warnings:
            if "WARNING" in line or line.startswith("typst:"):
                progress(f"warning: {line}")
        final = _move_into_place(outputs, out_dir)
        if os.environ.get("TRIALREPORT_RENDER_DEBUG"):
            keep = cache.root / "last-build"
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(build, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return RenderResult(
        outputs=final,
        chapters=timings,
        engine="builtin",
        executed=[t.path for t in timings if t.executed],
        warnings=warnings,
        seconds=time.perf_counter() - start,
    )
