"""Compile the typst file written by pandoc into the PDF."""

from __future__ import annotations

from pathlib import Path

import typst


class TypstCompileError(RuntimeError):
    """typst could not compile the document."""


def compile_pdf(source: Path, output: Path, root: Path) -> list[str]:
    """Compile ``source`` to ``output``; return typst's warnings as text lines."""
    try:
        _pdf, warnings = typst.compile_with_warnings(
            str(source), output=str(output), root=str(root), format="pdf"
        )
    except typst.TypstError as exc:
        raise TypstCompileError(f"typst failed on {source.name}: {exc}") from exc
    return [f"typst: {w}" for w in warnings or []]


def typst_version() -> str:
    return str(getattr(typst, "__version__", "unknown"))
