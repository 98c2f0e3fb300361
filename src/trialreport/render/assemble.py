"""Turn parsed chapters plus their executed outputs into one pandoc-markdown book."""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .escape import markdown_text
from .execute import INLINE_MIME, ExecutionResult
from .project import BookProject, ChapterEntry
from .qmd import INLINE_RE, CodeCell, MarkdownBlock, QmdDocument, iter_prose_segments

#: Keys of the ``trialreport:`` block of _quarto.yml passed to the writers as book metadata
#: (``trialreport.synthetic-notice`` is shown on every page when present).
REPORT_KEYS = ("study", "registration", "sponsor", "synthetic-notice")
#: Printable width of an A4 portrait page with the template margins, in inches.
TEXT_WIDTH_IN = 6.3
_SHORTCODE = re.compile(r"\{\{<\s*([A-Za-z0-9_-]+)\s*(.*?)\s*>\}\}")
#: great_tables 1.x writes one SCSS call into its CSS uncompiled (``color: font-color(#FFFFFF);``
#: for footnotes): not a CSS value, so it is removed (the notes keep the table's text colour).
_GT_UNCOMPILED_CSS = re.compile(r"\bcolor:\s*font-color\([^)]*\);?\s*")
_MIME_ORDER = (
    "text/markdown",
    "text/html",
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "text/plain",
)


@dataclass
class AssembledChapter:
    entry: ChapterEntry
    markdown: str


def cell_defaults(project: BookProject, doc: QmdDocument) -> dict[str, Any]:
    """Execution defaults: Quarto's, then ``execute:`` of _quarto.yml, then the chapter's."""
    opts: dict[str, Any] = {"echo": True, "output": True, "include": True, "warning": True}
    opts.update(project.execute or {})
    opts.update(doc.front_matter.get("execute") or {})
    return opts


def _fence(text: str, char: str = "`") -> str:
    longest = max((len(m) for m in re.findall(f"{re.escape(char)}+", text)), default=0)
    return char * max(3, longest + 1)


def _code_block(text: str, classes: str) -> str:
    fence = _fence(text)
    return f"{fence} {{{classes}}}\n{text.rstrip(chr(10))}\n{fence}"


def png_size(data: bytes) -> tuple[int, int, float | None]:
    """(width px, height px, dpi or None) of a PNG."""
    width, height = struct.unpack(">II", data[16:24])
    dpi = None
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"pHYs":
            ppu_x, _ppu_y, unit = struct.unpack(">IIB", data[pos + 8 : pos + 17])
            if unit == 1 and ppu_x:
                dpi = ppu_x * 0.0254
            break
        if kind == b"IDAT":
            break
        pos += 12 + length
    return width, height, dpi


class ChapterAssembler:
    """Builds the markdown of one chapter; images are written under ``media_dir``."""

    def __init__(
        self,
        project: BookProject,
        entry: ChapterEntry,
        doc: QmdDocument,
        result: ExecutionResult,
        media_dir: Path,
        media_prefix: str,
    ) -> None:
        self.project = project
        self.entry = entry
        self.doc = doc
        self.result = result
        self.media_dir = media_dir
        self.media_prefix = media_prefix
        self.defaults = cell_defaults(project, doc)
        self._inline: Iterator[str] = iter(result.inline)
        self._slug = re.sub(r"[^A-Za-z0-9]+", "-", Path(entry.path).with_suffix("").as_posix())

    def build(self) -> str:
        parts = [self._start_marker()]
        title = self.doc.front_matter.get("title")
        if title:
            parts.append(f"# {title}")
        for block in self.doc.blocks:
            if isinstance(block, MarkdownBlock):
                parts.append(self._markdown(block))
            else:
                parts.append(self._cell(block))
        return "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"

    def _start_marker(self) -> str:
        attrs = [
            f'tr-file="{self.entry.path}"',
            f'tr-kind="{"appendix" if self.entry.appendix else "chapter"}"',
        ]
        if self.entry.part:
            attrs.append(f'tr-part="{_attr(self.entry.part)}"')
        return f"::: {{.tr-chapter-start {' '.join(attrs)}}}\n:::"

    # -- markdown ------------------------------------------------------------------------
    def _markdown(self, block: MarkdownBlock) -> str:
        out = []
        for is_code, seg in iter_prose_segments(block.text):
            if is_code:
                out.append(seg)
                continue
            # shortcodes first: an inline value is text and never becomes a shortcode
            seg = _SHORTCODE.sub(self._shortcode, seg)
            seg = INLINE_RE.sub(self._inline_sub, seg)
            out.append(seg)
        return "".join(out)

    def _inline_sub(self, m: re.Match[str]) -> str:
        if m.group("lang") != "python":
            return m.group(0)
        return next(self._inline, "??")

    def _shortcode(self, m: re.Match[str]) -> str:
        if m.group(1) == "pagebreak":
            return "\n\n::: {.tr-pagebreak}\n:::\n\n"
        return shortcode_value(m, self.project, self.doc.front_matter)

    # -- cells ---------------------------------------------------------------------------
    def _cell(self, cell: CodeCell) -> str:
        opts = {**self.defaults, **cell.options}
        if opts.get("include") is False:
            return ""
        pieces: list[str] = []
        if opts.get("echo") is True:
            pieces.append(_code_block(cell.source, ".python .cell-code"))
        if opts.get("output") is not False and opts.get("eval", True) is not False:
            for n, out in enumerate(self.result.cells.get(cell.index, [])):
                text = self._output(cell, opts, n, out)
                if text:
                    pieces.append(text)
        label = cell.label or ""
        classes = opts.get("classes") or []
        if isinstance(classes, str):
            classes = classes.split()
        cls = "".join(f" .{c.lstrip('.')}" for c in ["cell", *classes])
        if label.startswith(("tbl-", "fig-")):
            cap = opts.get("tbl-cap" if label.startswith("tbl-") else "fig-cap")
            attrs = f"#{label}{cls}"
            if opts.get("fig-alt"):
                attrs += f' fig-alt="{_attr(str(opts["fig-alt"]))}"'
            if cap:
                pieces.append(f":::: {{.tr-caption}}\n{cap}\n::::")
            body = "\n\n".join(pieces)
            return f"::::::: {{{attrs}}}\n{body}\n:::::::"
        if not pieces:
            return ""
        body = "\n\n".join(pieces)
        return f"::::::: {{{cls.strip()}}}\n{body}\n:::::::"

    def _output(
        self, cell: CodeCell, opts: Mapping[str, Any], n: int, out: Mapping[str, Any]
    ) -> str:
        kind = out.get("output_type")
        if kind == "stream":
            text = str(out.get("text", ""))
            if out.get("name") == "stderr":
                if opts.get("warning") is False or not text.strip():
                    return ""
                return _code_block(text, ".cell-output .cell-output-stderr")
            if opts.get("output") == "asis":
                return text
            return _code_block(text, ".cell-output .cell-output-stdout") if text.strip() else ""
        if kind not in ("display_data", "execute_result"):
            return ""
        data = out.get("data") or {}
        if INLINE_MIME in data:
            return ""
        if "image/png" in data and "image/svg+xml" in data and not _is_text(data):
            return self._figure(cell, n, data["image/png"], data["image/svg+xml"])
        for mime in _MIME_ORDER:
            if mime in data:
                return self._mime(cell, n, mime, data[mime], opts)
        return ""

    def _figure(self, cell: CodeCell, n: int, png: Any, svg: Any) -> str:
        """A figure with both representations: the PNG (its size from its resolution) and the
        SVG beside it, which the Lua filter uses for PDF and HTML (vector) and not for Word."""
        image = self._mime(cell, n, "image/png", png, {})
        text = "".join(svg) if isinstance(svg, list) else str(svg)
        name = f"{self._slug}-{cell.index + 1}-{n + 1}.svg"
        (self.media_dir / name).write_text(text, encoding="utf-8")
        attr = f'tr-svg="{self.media_prefix}/{name}"'
        if image.endswith("}"):
            return image[:-1] + " " + attr + "}"
        return image + "{" + attr + "}"

    def _mime(self, cell: CodeCell, n: int, mime: str, value: Any, opts: Mapping[str, Any]) -> str:
        text = "".join(value) if isinstance(value, list) else str(value)
        if mime == "text/markdown":
            return text
        if mime == "text/html":
            # the only raw HTML of the book: kept in a file that the Lua filter loads, so that
            # no text in the Markdown itself can pass as raw output (see trialreport.lua)
            name = f"{self._slug}-{cell.index + 1}-{n + 1}.html"
            self.media_dir.mkdir(parents=True, exist_ok=True)
            text = _GT_UNCOMPILED_CSS.sub("", text)
            (self.media_dir / name).write_text(text.strip() + "\n", encoding="utf-8")
            return f'::: {{.tr-html-output src="{self.media_prefix}/{name}"}}\n:::'
        if mime == "text/plain":
            if opts.get("output") == "asis":
                return text
            return _code_block(text, ".cell-output .cell-output-display")
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}[mime]
        raw = text.encode("utf-8") if ext == "svg" else base64.b64decode(text)
        name = f"{self._slug}-{cell.index + 1}-{n + 1}.{ext}"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        (self.media_dir / name).write_bytes(raw)
        width = ""
        if ext == "png":
            px, _py, dpi = png_size(raw)
            inches = min(px / (dpi or 96.0), TEXT_WIDTH_IN)
            width = f"{{width={inches:.2f}in}}"
        return f"![]({self.media_prefix}/{name}){width}"


def _is_text(data: Mapping[str, Any]) -> bool:
    return "text/markdown" in data or "text/html" in data


def _attr(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def shortcode_value(m: re.Match[str], project: BookProject,
                    front_matter: dict[str, Any] | None = None) -> str:
    """The text of a ``{{< meta key >}}`` / ``{{< var key >}}`` shortcode (others unchanged).

    ``meta`` looks in the chapter's front matter, then the book's metadata; ``var`` in
    ``_variables.yml`` (dotted keys), giving ``?var:key`` when absent, as Quarto does.
    """
    name, arg = m.group(1), m.group(2).strip().strip("\"'")
    if name == "meta":
        value = (front_matter or {}).get(arg)
        value = value if value is not None else project.meta_lookup(arg)
        return "" if value is None else str(value)
    if name == "var":
        node: Any = project.variables
        for key in arg.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        return "?var:" + arg if node is None else str(node)
    return m.group(0)


def resolve_metadata_shortcodes(text: str, project: BookProject) -> str:
    """Resolve ``{{< var x >}}`` / ``{{< meta x >}}`` in title-page metadata, as Quarto does."""
    return _SHORTCODE.sub(lambda m: shortcode_value(m, project), text)


def study_facts(root: Path) -> dict[str, str]:
    """Facts of the study definition (``data_spec/study.yml``) the document properties and the
    running footer use: study id, registration, sponsor, synthetic-data notice. Read as data;
    ``_quarto.yml``'s ``trialreport:`` block may override them."""
    import yaml

    path = Path(root) / "data_spec" / "study.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # the render validates the study definition itself and reports problems
    info = raw.get("study") if isinstance(raw, dict) else None
    if not isinstance(info, dict):
        return {}

    def text(value: Any) -> str | None:
        value = value.get("text") if isinstance(value, dict) else value
        return str(value) if value not in (None, "") else None

    regs = info.get("registrations") or []
    facts = {"study": text(info.get("id")), "sponsor": text(info.get("sponsor")),
             "synthetic-notice": text(info.get("synthetic_notice")),
             "registration": "; ".join(f"{r.get('registry', '')} {r.get('id', '')}".strip()
                                       for r in regs if isinstance(r, dict)) or None}
    return {k: v for k, v in facts.items() if v}


def book_metadata(project: BookProject) -> dict[str, Any]:
    """Pandoc metadata for the whole book (title page, running header, language)."""
    def res(text: str) -> str:
        return resolve_metadata_shortcodes(text, project)

    meta: dict[str, Any] = {"title": res(project.title),
                            "lang": project.config.get("lang", "en")}
    if project.subtitle:
        meta["subtitle"] = res(project.subtitle)
    if project.authors:
        meta["author"] = [res(a) for a in project.authors]
    if project.date:
        meta["date"] = res(project.date)
    meta["running-header"] = project.running_header
    meta["tr-number-depth"] = str(project.number_depth)
    custom = {**study_facts(project.root), **(project.config.get("trialreport") or {})}
    if custom.get("version"):
        meta["version"] = str(custom["version"])
    # study facts for document properties and the running header/footer (Word core and app
    # properties, PDF metadata); text only, each one line
    block = {key: " ".join(res(str(custom[key])).split()) for key in REPORT_KEYS
             if isinstance(custom, dict) and custom.get(key) not in (None, "")}
    if block:
        meta["trialreport"] = block
    return meta


def write_metadata(project: BookProject, path: Path) -> None:
    """The book metadata for pandoc; the ``trialreport`` block is text (escaped Markdown)."""
    meta = book_metadata(project)
    if "trialreport" in meta:
        meta["trialreport"] = {k: markdown_text(v) for k, v in meta["trialreport"].items()}
    path.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
