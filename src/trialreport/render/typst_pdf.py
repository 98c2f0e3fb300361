"""Compile the typst file written by pandoc into the PDF."""

from __future__ import annotations

import os
from pathlib import Path

import typst


class TypstCompileError(RuntimeError):
    """typst could not compile the document."""


def creation_timestamp() -> int | None:
    """``SOURCE_DATE_EPOCH`` (seconds) for the PDF creation date and XMP, when set and valid.

    typst writes it as CreationDate/ModDate and into the XMP packet; without it typst uses the
    current time.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None


def compile_pdf(source: Path, output: Path, root: Path) -> list[str]:
    """Compile ``source`` to ``output``; return typst's warnings as text lines."""
    try:
        _pdf, warnings = typst.compile_with_warnings(
            str(source), output=str(output), root=str(root), format="pdf",
            timestamp=creation_timestamp(),
        )
    except typst.TypstError as exc:
        raise TypstCompileError(f"typst failed on {source.name}: {exc}") from exc
    return [f"typst: {w}" for w in warnings or []]


def typst_version() -> str:
    return str(getattr(typst, "__version__", "unknown"))
