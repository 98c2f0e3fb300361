"""Public result and error types of the render engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ChapterTiming:
    """How one chapter was obtained: ``executed`` in a kernel or taken from the cache."""

    path: str
    seconds: float
    executed: bool


@dataclass
class RenderResult:
    outputs: dict[str, Path]  # format ("html", "docx", "pdf") -> final output file
    chapters: list[ChapterTiming]
    engine: str  # "builtin" or "quarto"
    executed: list[str]  # chapters whose code ran (the others came from the cache)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: wall-clock seconds per phase ("execute", "kernel warm-up", "pandoc html", ...)
    phases: dict[str, float] = field(default_factory=dict)


class RenderError(Exception):
    """Rendering failed; the previous report files were left untouched.

    For a failing cell the message names the chapter file, the cell label (or "cell N"),
    the line of the cell in the .qmd, and ends with the Python traceback.
    """

    def __init__(
        self,
        message: str,
        chapter: str | None = None,
        cell: str | None = None,
        line: int | None = None,
        traceback: str | None = None,
    ) -> None:
        super().__init__(message)
        self.chapter = chapter
        self.cell = cell
        self.line = line
        self.traceback = traceback
