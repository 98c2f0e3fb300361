"""Parse a Quarto ``.qmd`` file into front matter, markdown blocks and executable cells."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

_OPEN_EXEC = re.compile(
    r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,})\s*"
    r"\{(?P<lang>[A-Za-z][A-Za-z0-9_+-]*)(?P<rest>[^}]*)\}\s*$"
)
_OPEN_PLAIN = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_OPTION = re.compile(r"^#\|\s?(?P<body>.*)$")
INLINE_RE = re.compile(
    r"(?<!`)(?P<ticks>`+)\{(?P<lang>[A-Za-z0-9_]+)\}[ \t]+(?P<expr>.+?)(?<!`)(?P=ticks)(?!`)"
)


class QmdSyntaxError(ValueError):
    """The .qmd file cannot be parsed (bad front matter or cell options)."""


@dataclass
class CodeCell:
    """An executable ```{lang} cell."""

    index: int  # 0-based index among executable cells of the file
    lang: str
    source: str  # code without the ``#|`` option lines
    options: dict[str, Any]
    line: int  # 1-based line of the opening fence in the .qmd
    header_rest: str = ""  # anything after the language inside ``{...}``
    code_line: int = 0  # 1-based .qmd line of the first line of ``source``

    @property
    def label(self) -> str | None:
        value = self.options.get("label")
        return str(value) if value is not None else None

    def display_name(self) -> str:
        return self.label or f"cell {self.index + 1}"


@dataclass
class MarkdownBlock:
    """A run of markdown between cells; ``line`` is the 1-based line of its first line."""

    text: str
    line: int


@dataclass
class InlineExpr:
    """An inline ```{python} expr``` occurrence inside a markdown block."""

    expr: str
    lang: str
    line: int


@dataclass
class QmdDocument:
    path: str
    front_matter: dict[str, Any]
    blocks: list[MarkdownBlock | CodeCell] = field(default_factory=list)

    @property
    def cells(self) -> list[CodeCell]:
        return [b for b in self.blocks if isinstance(b, CodeCell)]

    def inline_exprs(self) -> list[InlineExpr]:
        out: list[InlineExpr] = []
        for block in self.blocks:
            if isinstance(block, MarkdownBlock):
                out.extend(find_inline(block))
        return out


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, number of lines consumed by the front matter)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return {}, text, 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            raw = "".join(lines[1:i])
            try:
                data = yaml.safe_load(raw) or {}
            except yaml.YAMLError as exc:
                raise QmdSyntaxError(f"invalid YAML front matter: {exc}") from exc
            if not isinstance(data, dict):
                raise QmdSyntaxError("front matter must be a YAML mapping")
            return data, "".join(lines[i + 1 :]), i + 1
    return {}, text, 0


def parse_cell_options(lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Split leading ``#|`` lines from a cell's code and parse them as YAML."""
    opt_lines: list[str] = []
    i = 0
    while i < len(lines) and _OPTION.match(lines[i]):
        opt_lines.append(_OPTION.match(lines[i]).group("body"))  # type: ignore[union-attr]
        i += 1
    if not opt_lines:
        return {}, lines
    try:
        options = yaml.safe_load("\n".join(opt_lines)) or {}
    except yaml.YAMLError as exc:
        raise QmdSyntaxError(f"invalid cell options: {exc}") from exc
    if not isinstance(options, dict):
        raise QmdSyntaxError("cell options must be `#| key: value` lines")
    return options, lines[i:]


def parse_qmd(text: str, path: str = "<qmd>") -> QmdDocument:
    """Parse ``text`` into a :class:`QmdDocument` (cells keep their .qmd line numbers)."""
    front, body, offset = split_front_matter(text)
    doc = QmdDocument(path=path, front_matter=front)
    lines = body.splitlines(keepends=True)
    md: list[str] = []
    md_start = offset + 1
    i = 0
    n_cells = 0

    def flush(next_line: int) -> None:
        nonlocal md, md_start
        if md:
            doc.blocks.append(MarkdownBlock("".join(md), md_start))
        md = []
        md_start = next_line

    while i < len(lines):
        line = lines[i]
        m = _OPEN_EXEC.match(line.rstrip("\n"))
        if m:
            fence = m.group("fence")
            j = i + 1
            while j < len(lines) and not _closes(lines[j], fence[0], len(fence)):
                j += 1
            code_lines = [x.rstrip("\n") for x in lines[i + 1 : j]]
            options, code = parse_cell_options(code_lines)
            leading = 0
            while leading < len(code) and not code[leading].strip():
                leading += 1
            flush(offset + j + 2)
            doc.blocks.append(
                CodeCell(
                    index=n_cells,
                    lang=m.group("lang"),
                    source="\n".join(code).strip("\n"),
                    options=options,
                    line=offset + i + 1,
                    header_rest=m.group("rest").strip(),
                    code_line=offset + i + 2 + (len(code_lines) - len(code)) + leading,
                )
            )
            n_cells += 1
            i = j + 1
            continue
        m2 = _OPEN_PLAIN.match(line.rstrip("\n"))
        if m2 and not ("`" in m2.group("info") and m2.group("fence")[0] == "`"):
            fence = m2.group("fence")
            j = i + 1
            while j < len(lines) and not _closes(lines[j], fence[0], len(fence)):
                j += 1
            md.extend(lines[i : j + 1])
            i = j + 1
            continue
        md.append(line)
        i += 1
    flush(offset + len(lines) + 1)
    return doc


def _closes(line: str, char: str, length: int) -> bool:
    stripped = line.strip()
    return (
        len(stripped) >= length
        and set(stripped) == {char}
        and len(line) - len(line.lstrip(" ")) <= 3
    )


def iter_prose_segments(text: str) -> list[tuple[bool, str]]:
    """Split markdown into (is_code_block, text) pieces so prose can be scanned safely."""
    out: list[tuple[bool, str]] = []
    lines = text.splitlines(keepends=True)
    buf: list[str] = []
    i = 0
    while i < len(lines):
        m = _OPEN_PLAIN.match(lines[i].rstrip("\n"))
        if m and not ("`" in m.group("info") and m.group("fence")[0] == "`"):
            if buf:
                out.append((False, "".join(buf)))
                buf = []
            fence = m.group("fence")
            j = i + 1
            while j < len(lines) and not _closes(lines[j], fence[0], len(fence)):
                j += 1
            out.append((True, "".join(lines[i : j + 1])))
            i = j + 1
            continue
        buf.append(lines[i])
        i += 1
    if buf:
        out.append((False, "".join(buf)))
    return out


def find_inline(block: MarkdownBlock, langs: tuple[str, ...] = ("python",)) -> list[InlineExpr]:
    """Inline expressions (in ``langs``) of a markdown block, in order, outside code blocks."""
    out: list[InlineExpr] = []
    line = block.line
    for is_code, seg in iter_prose_segments(block.text):
        if not is_code:
            for m in INLINE_RE.finditer(seg):
                if m.group("lang") not in langs:
                    continue
                out.append(
                    InlineExpr(
                        m.group("expr").strip(),
                        m.group("lang"),
                        line + seg.count("\n", 0, m.start()),
                    )
                )
        line += seg.count("\n")
    return out
