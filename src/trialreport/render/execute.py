"""Execute a chapter's cells (and inline expressions) in a fresh Jupyter kernel."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # Jupyter is imported only when a chapter actually runs
    import nbformat

    from .kernels import KernelServer

from .procs import RENDER_MARKER
from .qmd import CodeCell, MarkdownBlock, QmdDocument, find_inline

KERNEL_NAME = "trialreport-python3"
INLINE_MIME = "text/x-trialreport-inline"
FIGURE_DPI = 200
DEFAULT_FIGSIZE = (6.0, 4.0)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

SETUP_CODE = f"""\
%config InlineBackend.figure_formats = ['png']
%config InlineBackend.print_figure_kwargs = {{'bbox_inches': 'tight', 'dpi': {FIGURE_DPI}, \
'facecolor': 'white'}}
def _trialreport_inline(value):
    from IPython.display import display
    if hasattr(value, "_repr_markdown_"):
        text = value._repr_markdown_()
        text = text[0] if isinstance(text, tuple) else text
    else:  # a plain value is data: escape every ASCII punctuation mark so that it cannot
        # become Markdown or HTML markup (pandoc shows backslash-escaped punctuation literally)
        import re
        text = re.sub(r"([!-/:-@\\[-`{{-~])", r"\\\\\\1", str(value))
    display({{{INLINE_MIME!r}: text}}, raw=True)
def _trialreport_figsize(size):
    import matplotlib
    global _trialreport_saved_figsize
    if size is None:
        matplotlib.rcParams["figure.figsize"] = _trialreport_saved_figsize
    else:
        _trialreport_saved_figsize = list(matplotlib.rcParams["figure.figsize"])
        matplotlib.rcParams["figure.figsize"] = size
import sys as _trialreport_sys
if "matplotlib_inline.backend_inline" in _trialreport_sys.modules:
    # imported before this kernel's IPython existed (kernel server warm-up): connect it now,
    # as importing it inside the kernel would have
    get_ipython().enable_matplotlib("inline")
del _trialreport_sys
try:
    import matplotlib as _trialreport_mpl
    _trialreport_mpl.rcParams["figure.figsize"] = {list(DEFAULT_FIGSIZE)}
    del _trialreport_mpl
except ImportError:
    pass
"""


class ChapterExecutionError(Exception):
    """A cell (or inline expression) of a chapter raised an error."""

    def __init__(self, chapter: str, where: str, line: int, traceback: str) -> None:
        self.chapter = chapter
        self.where = where
        self.line = line
        self.traceback = traceback
        super().__init__(f"{chapter}:{line}: error in {where}\n{traceback}")


@dataclass
class ExecutionResult:
    """Outputs of one executed chapter, JSON-serialisable for the cache."""

    cells: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    inline: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"cells": {str(k): v for k, v in self.cells.items()}, "inline": self.inline}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExecutionResult:
        cells = {int(k): v for k, v in (data.get("cells") or {}).items()}
        return cls(cells=cells, inline=list(data.get("inline") or []))


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def kernel_spec_dir(cache_root: Path) -> Path:
    """Write a kernelspec that runs ipykernel with *this* interpreter; return its parent dir."""
    spec_dir = cache_root / "kernels" / KERNEL_NAME
    spec = {
        "argv": [
            sys.executable,
            "-Xfrozen_modules=off",
            "-m",
            "ipykernel_launcher",
            "--IPKernelApp.log_level=ERROR",
            "-f",
            "{connection_file}",
        ],
        "display_name": "Python 3 (trialreport)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    text = json.dumps(spec, indent=1)
    target = spec_dir / "kernel.json"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        from .cache import atomic_write_text

        atomic_write_text(target, text)
    return spec_dir.parent


def build_notebook(doc: QmdDocument) -> nbformat.NotebookNode:
    """A notebook with the chapter's cells and hidden cells for each inline expression.

    Inline expressions are placed right after the code cell that precedes them, so they
    are evaluated at their position in the document, as Quarto does.
    """
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(_cell(SETUP_CODE, kind="setup"))
    inline_index = 0
    for block in doc.blocks:
        if isinstance(block, CodeCell):
            if block.options.get("eval", True) is False:
                continue
            size = _figsize(block.options)
            if size:
                nb.cells.append(_cell(f"_trialreport_figsize({list(size)})", kind="setup"))
            nb.cells.append(_cell(block.source, kind="code", index=block.index, line=block.line))
            if size:
                nb.cells.append(_cell("_trialreport_figsize(None)", kind="setup"))
        elif isinstance(block, MarkdownBlock):
            for expr in find_inline(block):
                code = f"_trialreport_inline((\n{expr.expr}\n))"
                nb.cells.append(_cell(code, kind="inline", index=inline_index, line=expr.line))
                inline_index += 1
    return nb


def _figsize(options: Mapping[str, Any]) -> tuple[float, float] | None:
    if "fig-width" not in options and "fig-height" not in options:
        return None
    width = float(options.get("fig-width", DEFAULT_FIGSIZE[0]))
    height = float(options.get("fig-height", DEFAULT_FIGSIZE[1]))
    return (width, height)


def _cell(source: str, **meta: Any) -> nbformat.NotebookNode:
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["trialreport"] = meta
    return cell


def _merge_streams(outputs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for out in outputs:
        out = json.loads(json.dumps(out))  # NotebookNode -> plain dict
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1]["text"] += out.get("text", "")
        else:
            merged.append(out)
    return merged


def _error_text(cell: Mapping[str, Any], exc: BaseException) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            tb = "\n".join(out.get("traceback") or [])
            return strip_ansi(tb or f"{out.get('ename')}: {out.get('evalue')}")
    return strip_ansi(str(exc))


async def execute_chapter(
    doc: QmdDocument,
    cwd: Path,
    env: Mapping[str, str],
    kernel_dirs: Path,
    timeout: int | None = None,
    server: KernelServer | None = None,
    runtime_dir: Path | None = None,
) -> ExecutionResult:
    """Run ``doc`` in a fresh kernel; raise :class:`ChapterExecutionError` on a cell error.

    The kernel is forked by ``server`` when given (else started as a new process) and is
    shut down before this returns or raises, also when the render is interrupted.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from .kernels import kernel_manager, shutdown

    nb = build_notebook(doc)
    km = kernel_manager(KERNEL_NAME, kernel_dirs, server, runtime_dir)
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        allow_errors=False,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
    )
    result = ExecutionResult()
    cells_by_index = {c.index: c for c in doc.cells}
    first_lines: dict[int, int] = {}  # kernel execution count -> .qmd line of the code
    try:
        # Not nbclient's async_setup_kernel: it installs its own SIGINT/SIGTERM handlers and
        # leaves a kernel it did not create running.
        await client.async_start_new_kernel(env=dict(env))
        await client.async_start_new_kernel_client()
        for idx, cell in enumerate(nb.cells):
            meta = cell.metadata["trialreport"]
            count = idx + 1
            if meta["kind"] == "code":
                first_lines[count] = cells_by_index[meta["index"]].code_line
            try:
                await client.async_execute_cell(cell, idx, execution_count=count)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # nbclient reports *any* cancellation of a running cell as "Kernel died";
                    # here the render was interrupted, which is not the chapter's fault
                    raise asyncio.CancelledError from None
                if meta["kind"] == "code":
                    where = cells_by_index[meta["index"]].display_name()
                elif meta["kind"] == "inline":
                    where = f"inline expression `{cell.source.splitlines()[1]}`"
                else:
                    where = "setup cell"
                text = _qmd_lines(_error_text(cell, exc), doc.path, first_lines)
                line = int(meta.get("line", 0))
                raise ChapterExecutionError(doc.path, where, line, text) from None
            if meta["kind"] == "code":
                result.cells[meta["index"]] = _merge_streams(cell.outputs)
            elif meta["kind"] == "inline":
                result.inline.append(_inline_value(cell.outputs))
    finally:
        await shutdown(km, client.kc)
        client.kc = None
    return result


def _qmd_lines(traceback: str, path: str, first_lines: Mapping[int, int]) -> str:
    """Rewrite IPython's ``Cell In[7], line 3`` into the .qmd file and line."""

    def repl(m: re.Match[str]) -> str:
        start = first_lines.get(int(m.group(1)))
        if start is None:
            return m.group(0)
        return f"{path}, line {start + int(m.group(2)) - 1}"

    return re.sub(r"Cell In\[(\d+)\], line (\d+)", repl, traceback)


def _inline_value(outputs: Sequence[Mapping[str, Any]]) -> str:
    for out in outputs:
        data = out.get("data") or {}
        if INLINE_MIME in data:
            return str(data[INLINE_MIME])
    return ""


def kernel_env(extra: Mapping[str, str] | None, project_dir: Path,
               render_id: str = "") -> dict[str, str]:
    """Environment for chapter kernels: ours + ``extra`` + the trialreport package on the path
    (+ the render's marker, see :data:`trialreport.render.procs.RENDER_MARKER`)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (extra or {}).items()})
    package_parent = str(Path(__file__).resolve().parents[2])
    paths = [package_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("JPY_PARENT_PID", None)
    if render_id:
        env[RENDER_MARKER] = render_id
    return env


T = TypeVar("T")


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion even when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())  # type: ignore[arg-type]
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


@dataclass
class ChapterRun:
    """Bookkeeping for one chapter execution inside :func:`execute_many`."""

    doc: QmdDocument
    result: ExecutionResult | None = None
    seconds: float = 0.0


async def execute_many(
    runs: Sequence[ChapterRun],
    cwd: Path,
    env: Mapping[str, str],
    kernel_dirs: Path,
    jobs: int = 2,
    on_done: Callable[[ChapterRun], None] | None = None,
    server: KernelServer | None = None,
    runtime_dir: Path | None = None,
) -> None:
    """Execute chapters ``jobs`` at a time; the first failure cancels the others (their
    kernels are shut down)."""
    sem = asyncio.Semaphore(max(1, jobs))

    async def one(run: ChapterRun) -> None:
        async with sem:
            start = time.perf_counter()
            run.result = await execute_chapter(run.doc, cwd, env, kernel_dirs, server=server,
                                               runtime_dir=runtime_dir)
            run.seconds = time.perf_counter() - start
            if on_done:
                on_done(run)

    try:
        async with asyncio.TaskGroup() as group:
            for run in runs:
                group.create_task(one(run))
    except BaseExceptionGroup as eg:  # surface the first real error
        first = eg.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
