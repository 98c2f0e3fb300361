"""Run the renderer's last steps (pandoc + Lua filter, typst, Word finishing) on a small
assembled Markdown book, without kernels: fast tests of what the writers make of it."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from trialreport.render import pandoc as pandoc_mod
from trialreport.render.docx_post import postprocess_docx
from trialreport.render.escape import markdown_text
from trialreport.render.typst_pdf import compile_pdf

# a 1x1 PNG at 200 dpi (pHYs), and a small SVG drawing, for figures
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAACXBIWXMAAB7CAAAewgFu0HU+AAAADElEQVR4nGP4"
    "//8/AAX+Av4N70a4AAAAAElFTkSuQmCC")
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="144pt" height="72pt" viewBox="0 0 144 72">'
       '<path d="M0 0 L144 72 L0 72 Z" fill="#0072B2"/><circle cx="100" cy="20" r="15"/></svg>')


def chapter(path: str, appendix: bool = False) -> str:
    kind = "appendix" if appendix else "chapter"
    return f'::: {{.tr-chapter-start tr-file="{path}" tr-kind="{kind}"}}\n:::\n\n'


def build(tmp: Path, markdown: str, fmt: str, metadata: dict[str, Any] | None = None,
          running_header: str = "Study X · Clinical Study Report",
          toc_depth: int = 2) -> tuple[Path, list[str]]:
    """Write ``markdown`` as the book, convert it to ``fmt`` (html, docx, pdf); returns the
    output file and the warnings. For pdf the .typ source is kept next to the PDF."""
    build_dir = tmp / f"build-{fmt}"
    media = build_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "fig.png").write_bytes(PNG_1PX)
    (media / "fig.svg").write_text(SVG, encoding="utf-8")
    source = build_dir / "book.md"
    source.write_text(markdown, encoding="utf-8")
    meta = {"title": "Study X Clinical Study Report", "running-header": running_header,
            "lang": "en", **(metadata or {})}
    meta_file = build_dir / "metadata.yaml"
    written = dict(meta)  # as assemble.write_metadata writes it: the study block escaped
    if "trialreport" in written:
        written["trialreport"] = {k: markdown_text(v) for k, v in written["trialreport"].items()}
    meta_file.write_text(yaml.safe_dump(written, allow_unicode=True), encoding="utf-8")
    job = pandoc_mod.build_job(fmt, source, meta_file, build_dir, "book", [build_dir], toc_depth,
                               {})
    warnings = pandoc_mod.run_job(job, build_dir)
    if fmt == "pdf":
        pdf = build_dir / "book.pdf"
        warnings += compile_pdf(job.output, pdf, build_dir)
        return pdf, warnings
    if fmt == "docx":
        postprocess_docx(job.output, running_header, toc_depth, meta)
    return job.output, warnings
