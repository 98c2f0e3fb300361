"""The builtin engine: execute chapters (cached), assemble, pandoc, typst, move into place."""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from trialreport.versioning import pandoc_version

from . import pandoc as pandoc_mod
from .assemble import ChapterAssembler, book_metadata, write_metadata
from .cache import RenderCache, fingerprint_paths, hash_text
from .execute import (
    ChapterExecutionError,
    ChapterRun,
    ExecutionResult,
    execute_many,
    kernel_env,
    kernel_spec_dir,
    run_async,
)
from .kernels import KernelServer, KernelServerError, fork_available, runtime_folder
from .lock import DEFAULT_WAIT, render_lock
from .project import BookProject, ProjectError, load_project
from .qmd import QmdDocument, QmdSyntaxError, parse_qmd
from .result import ChapterTiming, RenderError, RenderResult
from .staging import PublishError, make_staging_dir, publish_folder, remove_stale
from .syntax import SUPPORTED_LANGS
from .typst_pdf import TypstCompileError, compile_pdf, typst_version

FINAL_SUFFIX = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}
#: Chapters executed concurrently (each in its own kernel): the usable CPUs, at least 2.
PARALLEL_KERNELS = max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else (os.cpu_count() or 2))
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
    # paths inside the project count relative to it: a moved or copied project keeps its cache
    # (what those paths hold is fingerprinted above)
    root = str(project_dir.resolve())
    located = {key: "<project>" + value[len(root):]
               if value == root or value.startswith(root + os.sep) else value
               for key, value in (env or {}).items()}
    env_text = json.dumps(sorted(located.items()))
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


def chapter_imports(docs: Iterable[QmdDocument]) -> list[str]:
    """Modules imported by the chapters' code cells (``import a.b``, ``from a.b import c``),
    in order of first use: the kernel server imports them once instead of once per chapter."""
    found: dict[str, None] = {}
    for doc in docs:
        for cell in doc.cells:
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics, or an error the chapter will report
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update({alias.name: None for alias in node.names})
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found[node.module] = None
    return list(found)


def _kernel_server(project: BookProject, env: Mapping[str, str] | None,
                   kernels: KernelOptions, runs: Sequence[ChapterRun]
                   ) -> tuple[KernelServer | None, bool, dict[str, str]]:
    """The kernel server for this render (the caller's when started for the same settings,
    else a new one, not yet started: ``own``), and the kernels' environment."""
    server = kernels.server
    if server is not None and (server.settings != dict(env or {}) or server.cwd != project.root):
        server = None  # started for other settings: its warm state does not apply
    if server is not None:
        kernels.render_id = server.render_id
    kenv = kernel_env(env, project.root, kernels.render_id)
    own = server is None and fork_available()
    if own:
        preload = [*chapter_imports(r.doc for r in runs), *kernels.preload]
        server = KernelServer(project.root, kenv, preload, kernels.warmup, kernels.render_id)
    return server, own, kenv


def _execute(
    project: BookProject,
    docs: list[QmdDocument],
    cache: RenderCache,
    refresh: bool,
    env: Mapping[str, str] | None,
    progress: Callable[[str], None],
    kernels: KernelOptions,
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

        kernel_dirs = kernel_spec_dir(cache.root)
        server, own, kenv = _kernel_server(project, env, kernels, runs)
        runtime = None if server is not None else runtime_folder()  # else the server's
        try:
            if own and server is not None:
                server.start()
            run_async(lambda: execute_many(runs, project.root, kenv, kernel_dirs,
                                           PARALLEL_KERNELS, done, server, runtime))
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
        except KernelServerError as exc:
            raise RenderError(f"could not start a chapter kernel: {exc}") from None
        finally:
            if server is not None:
                if own:
                    server.close()
                if server.ready is not None:
                    kernels.phases["kernel warm-up"] = server.ready_after
                    steps = server.ready.get("ready") or {}
                    for step, label in (("preload", "imports"), ("warmup", "warm-up code")):
                        if step in steps:
                            kernels.phases[f"kernel warm-up: {label}"] = float(steps[step])
            if runtime is not None:  # every kernel is shut down by now
                shutil.rmtree(runtime, ignore_errors=True)
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
    phases: dict[str, float] | None = None,
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
        clock = time.perf_counter()
        fmt_warnings = pandoc_mod.run_job(job, build)
        (phases if phases is not None else {})[f"pandoc {job.fmt}"] = time.perf_counter() - clock
        clock = time.perf_counter()
        if job.fmt == "pdf":
            fmt_warnings += compile_pdf(job.output, final, build)
            (phases if phases is not None else {})["typst"] = time.perf_counter() - clock
        else:
            if job.fmt == "html":
                pandoc_mod.restore_deferred_html(job.output, build / pandoc_mod.DEFERRED_HTML)
            if job.fmt == "docx":
                from .docx_post import postprocess_docx  # python-docx: only when converting

                postprocess_docx(job.output, project.running_header, project.toc_depth,
                                 book_metadata(project))
                (phases if phases is not None else {})["docx post-processing"] = (
                    time.perf_counter() - clock)
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


@dataclass
class KernelOptions:
    """How chapter kernels start: the render's marker, extra modules to preload and warm-up
    code (the caller's own code, run once in the kernel server before the first fork)."""

    render_id: str = ""
    preload: Sequence[str] = ()
    warmup: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    #: a server started ahead of the render (:func:`start_kernel_server`); its owner closes it
    server: KernelServer | None = None


def start_kernel_server(project_dir: Path, env: Mapping[str, str] | None,
                        preload: Sequence[str] = (), warmup: str = "") -> KernelServer | None:
    """Start the chapter kernel server before the render, so that it warms up while the caller
    does other work (validation); pass it to ``render_book(kernel_server=...)`` and close it
    afterwards. Used only when the render passes the same ``env`` (each kernel still gets the
    environment of the moment it starts). None where kernels cannot be forked."""
    if not fork_available():
        return None
    try:
        project = load_project(project_dir)
    except ProjectError as exc:
        raise RenderError(str(exc)) from exc
    render_id = new_render_id()
    kenv = kernel_env(env, project.root, render_id)
    modules = [*chapter_imports(_load_docs(project)), *preload]
    server = KernelServer(project.root, kenv, modules, warmup, render_id)
    server.settings = dict(env or {})
    server.start()
    return server


def new_render_id() -> str:
    """``<pid>-<random>``: marks the processes of one render (see ``procs.RENDER_MARKER``)."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def check_output_dir(out_dir: Path) -> None:
    """Refuse an output folder that is a file or lies under a file (RenderError)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"the output folder {out_dir} is a file, not a folder")
    for parent in out_dir.parents:
        if parent.exists():
            if not parent.is_dir():
                raise RenderError(f"the output folder {out_dir} cannot be created: {parent} "
                                  "is a file")
            break
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"the output folder {out_dir} cannot be created: "
                          f"{exc.strerror}") from None
    if not os.access(out_dir.parent, os.W_OK | os.X_OK) or (
            out_dir.exists() and not os.access(out_dir, os.W_OK | os.X_OK)):
        raise RenderError(f"the output folder {out_dir} is read-only; nothing was changed")


def remove_stale_staging(*folders: Path) -> None:
    """Remove staging folders and partial files left by renders that were killed."""
    for folder in folders:
        remove_stale(folder)


def render_builtin(
    project_dir: Path,
    output_dir: Path | None,
    formats: Sequence[str],
    refresh: bool,
    env: Mapping[str, str] | None,
    progress: Callable[[str], None],
    wait: float = DEFAULT_WAIT,
    kernels: KernelOptions | None = None,
) -> RenderResult:
    """Render with the builtin engine (see :func:`trialreport.render.render_book`)."""
    start = time.perf_counter()
    try:
        project = load_project(project_dir)
    except ProjectError as exc:
        raise RenderError(str(exc)) from exc
    out_dir = Path(output_dir).resolve() if output_dir else project.output_dir
    check_output_dir(out_dir)
    kernels = kernels or KernelOptions()
    kernels.render_id = kernels.render_id or new_render_id()
    phases = kernels.phases
    with render_lock(project.root, out_dir, wait, progress):
        cache = RenderCache(project.root)
        remove_stale_staging(out_dir.parent, Path(tempfile.gettempdir()),
                             *cache.staging_folders())
        docs = _load_docs(project)
        tmp = make_staging_dir(out_dir.parent)
        try:
            clock = time.perf_counter()
            results, timings = _execute(project, docs, cache, refresh, env, progress, kernels)
            phases["execute"] = time.perf_counter() - clock
            build = tmp / "build"
            staged = tmp / "out"
            build.mkdir()
            staged.mkdir()
            clock = time.perf_counter()
            _assemble(project, docs, results, build)
            phases["assemble"] = time.perf_counter() - clock
            clock = time.perf_counter()
            outputs, warnings = _convert(project, formats, build, staged, cache, progress, phases)
            phases["convert"] = time.perf_counter() - clock
            for line in warnings:
                if "WARNING" in line or line.startswith("typst:"):
                    progress(f"warning: {line}")
            try:
                publish_folder(staged, out_dir)
            except PublishError as exc:
                raise RenderError(str(exc)) from None
            final = {fmt: out_dir / path.name for fmt, path in outputs.items()}
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
        phases=dict(phases),
    )
