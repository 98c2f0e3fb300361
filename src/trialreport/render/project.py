"""Read a Quarto book project (``_quarto.yml``) into a :class:`BookProject`."""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ProjectError(ValueError):
    """The ``_quarto.yml`` file is missing or malformed."""


@dataclass(frozen=True)
class ChapterEntry:
    """One chapter file of the book, in reading order."""

    path: str  # posix path relative to the project dir
    appendix: bool = False
    part: str | None = None  # title of the part that starts right before this chapter


@dataclass
class BookProject:
    root: Path
    config: dict[str, Any]
    chapters: list[ChapterEntry]
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    date: str = ""
    output_dir: Path = Path("_book")
    output_stem: str = "book"
    execute: dict[str, Any] = field(default_factory=dict)
    running_header: str = ""
    number_depth: int = 3
    toc_depth: int = 2
    variables: dict[str, Any] = field(default_factory=dict)

    def format_options(self, fmt: str) -> dict[str, Any]:
        formats = self.config.get("format") or {}
        if isinstance(formats, dict):
            value = formats.get(fmt)
            if isinstance(value, dict):
                return value
        return {}

    def meta_lookup(self, key: str) -> Any:
        """Resolve a dotted ``{{< meta key >}}`` path against book + top-level metadata."""
        for source in (self.config.get("book") or {}, self.config):
            node: Any = source
            for part in key.split("."):
                if isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    node = None
                    break
            if node is not None:
                return node
        return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _authors(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, dict):
                name = (
                    name.get("literal")
                    or " ".join(str(name.get(k, "")) for k in ("given", "family")).strip()
                )
            out.append(_as_text(name))
        else:
            out.append(_as_text(item))
    return [a for a in out if a]


def _resolve_date(value: Any) -> str:
    """``today``/``now``/``last-modified`` become the render date: ``SOURCE_DATE_EPOCH`` (UTC)
    when set, for reproducible builds, else today."""
    text = _as_text(value)
    if text in ("today", "now", "last-modified"):
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch.isdigit():
            return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC).date().isoformat()
        return _dt.date.today().isoformat()
    return text


def _chapter_items(items: Any, appendix: bool) -> list[ChapterEntry]:
    out: list[ChapterEntry] = []
    for item in items or []:
        if isinstance(item, str):
            out.append(ChapterEntry(item, appendix))
        elif isinstance(item, dict) and "part" in item:
            part = str(item["part"])
            children = _chapter_items(item.get("chapters"), appendix)
            if children:
                first = children[0]
                children[0] = ChapterEntry(first.path, first.appendix, part)
            out.extend(children)
        elif isinstance(item, dict) and "href" in item:
            out.append(ChapterEntry(str(item["href"]), appendix))
        else:
            raise ProjectError(f"unsupported book chapter entry: {item!r}")
    return out


def load_project(project_dir: Path) -> BookProject:
    """Load ``project_dir/_quarto.yml`` (a Quarto ``book`` project)."""
    root = Path(project_dir).resolve()
    cfg_path = root / "_quarto.yml"
    if not cfg_path.is_file():
        raise ProjectError(f"{cfg_path} not found")
    try:
        config = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProjectError(f"{cfg_path}: invalid YAML: {exc}") from exc
    project = config.get("project") or {}
    if project.get("type", "book") != "book":
        raise ProjectError("only Quarto projects of type 'book' are supported")
    book = config.get("book") or {}
    chapters = _chapter_items(book.get("chapters"), False)
    chapters += _chapter_items(book.get("appendices"), True)
    if not chapters:
        raise ProjectError("_quarto.yml: book.chapters is empty")
    for ch in chapters:
        if not (root / ch.path).is_file():
            raise ProjectError(f"_quarto.yml lists {ch.path}, which does not exist")
    custom = config.get("trialreport") or {}
    title = _as_text(book.get("title") or config.get("title"))
    stem = book.get("output-file") or custom.get("output-stem") or _slug(title) or "book"
    stem = re.sub(r"\.(html|docx|pdf|typ)$", "", str(stem))
    execute = dict(config.get("execute") or {})
    version = _project_version(root) or custom.get("version")
    if version and custom.get("version-in-filename", True) and str(version) not in stem:
        stem = f"{stem}-v{version}"
    running = custom.get("running-header") or title
    if version and str(version) not in str(running):
        running = f"{running} · v{version}"
    variables: dict[str, Any] = {}
    var_file = root / "_variables.yml"
    if var_file.is_file():
        variables = yaml.safe_load(var_file.read_text(encoding="utf-8")) or {}
    html = (
        (config.get("format") or {}).get("html") if isinstance(config.get("format"), dict) else None
    )
    html = html if isinstance(html, dict) else {}
    return BookProject(
        root=root,
        config=config,
        chapters=chapters,
        title=title,
        subtitle=_as_text(book.get("subtitle") or config.get("subtitle")),
        authors=_authors(book.get("author") or config.get("author")),
        date=_resolve_date(book.get("date") or config.get("date")),
        output_dir=root / str(project.get("output-dir") or "_book"),
        output_stem=stem,
        execute=execute,
        running_header=_as_text(running),
        number_depth=int(config.get("number-depth") or html.get("number-depth") or 3),
        toc_depth=int(config.get("toc-depth") or html.get("toc-depth") or 2),
        variables=variables,
    )


def _project_version(root: Path) -> str | None:
    """The report version from ``pyproject.toml`` (the single source of truth), if any."""
    from trialreport.versioning import VersionError, report_version

    try:
        return report_version(root)
    except VersionError:
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
