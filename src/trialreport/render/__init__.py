"""Render the Quarto book of a trialreport project to HTML, Word and PDF.

Two engines accept the same files:

* ``builtin`` -- executes each chapter's ``{python}`` cells in a fresh Jupyter kernel
  (working directory = the project dir, so chapters can ``from trialreport import ...``
  and read relative paths), caches executed outputs like Quarto's freeze, assembles one
  pandoc document and converts it with pandoc + a Lua filter (HTML, docx) and typst (PDF).
* ``quarto`` -- runs ``quarto render`` (used by ``auto`` when ``quarto`` is on PATH).

Use :func:`check_supported_syntax` to verify that a chapter stays inside the Quarto subset
that the builtin engine implements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .cache import fingerprint_paths
from .engine import KernelOptions, render_builtin, start_kernel_server
from .kernels import KernelServer
from .lock import DEFAULT_WAIT, RenderLockError
from .quarto import quarto_path, render_quarto
from .result import ChapterTiming, RenderError, RenderResult
from .syntax import SUPPORTED_CELL_OPTIONS, check_supported_syntax

__all__ = [
    "SUPPORTED_CELL_OPTIONS",
    "ChapterTiming",
    "RenderError",
    "RenderLockError",
    "RenderResult",
    "check_supported_syntax",
    "fingerprint_paths",
    "render_book",
    "start_kernel_server",
]

FORMATS = ("html", "docx", "pdf")
_ALIASES = {"typst": "pdf", "word": "docx", "html5": "html"}


def normalize_formats(formats: Sequence[str] | str) -> list[str]:
    """Validate and order formats; accepts a comma-separated string and ``typst`` for pdf."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = []
    for item in items:
        name = _ALIASES.get(item.strip().lower(), item.strip().lower())
        if not name:
            continue
        if name not in FORMATS:
            raise RenderError(f"unknown output format {item!r} (choose from html, docx, pdf)")
        if name not in wanted:
            wanted.append(name)
    if not wanted:
        raise RenderError("no output format requested")
    return [f for f in FORMATS if f in wanted]


def render_book(
    project_dir: Path,
    output_dir: Path | None = None,
    formats: Sequence[str] = ("html", "docx", "pdf"),
    engine: str = "auto",
    refresh: bool = False,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] = print,
    *,
    wait: float = DEFAULT_WAIT,
    kernel_preload: Sequence[str] = (),
    kernel_warmup: str = "",
    kernel_server: KernelServer | None = None,
) -> RenderResult:
    """Render the book in ``project_dir`` (the folder holding ``_quarto.yml``).

    ``output_dir`` defaults to ``project.output-dir`` of ``_quarto.yml``; files are named
    ``{book.output-file}.html/.docx/.pdf``. ``engine`` is ``auto``, ``builtin`` or
    ``quarto``. ``refresh`` re-executes every chapter. ``env`` is exported to the chapter
    kernels (e.g. ``TRIALREPORT_DATA``). ``progress`` receives one line per chapter.
    Raises :class:`RenderError`; on error the previous output files are left unchanged.
    """
    fmts = normalize_formats(formats)
    project_dir = Path(project_dir).resolve()
    choice = engine.lower()
    if choice == "auto":
        choice = "quarto" if quarto_path() else "builtin"
    if choice == "quarto":
        return render_quarto(project_dir, output_dir, fmts, refresh, env, progress)
    if choice != "builtin":
        raise RenderError(f"unknown engine {engine!r} (choose auto, quarto or builtin)")
    kernels = KernelOptions(preload=tuple(kernel_preload), warmup=kernel_warmup,
                            server=kernel_server)
    return render_builtin(project_dir, output_dir, fmts, refresh, env, progress, wait, kernels)
