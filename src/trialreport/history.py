"""The document history table, read from ``CHANGELOG.md`` (Keep a Changelog format).

Each ``## [version] - YYYY-MM-DD`` section becomes one row ``(version, date, changes)``, newest
first as in the file; ``### Added`` / ``### Changed`` ... sub-headings prefix their items.
``## [Unreleased]`` is left out unless asked for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

_RELEASE = re.compile(r"^##\s+\[?(?P<version>[^\]\s]+)\]?(?:\s*[-\u2013\u2014]\s*(?P<date>\S+))?")
_CATEGORY = re.compile(r"^###\s+(?P<name>.+?)\s*$")
_ITEM = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?P<text>.*)$")
_LINK_DEF = re.compile(r"^\[[^\]]+\]:\s*\S+")


class HistoryEntry(NamedTuple):
    """One released version: ``(version, date, changes)``."""

    version: str
    date: str
    changes: tuple[str, ...]


def parse_changelog(text: str, include_unreleased: bool = False) -> list[HistoryEntry]:
    """Parse Keep-a-Changelog text into history entries (file order, newest first)."""
    entries: list[HistoryEntry] = []
    version: str | None = None
    date = ""
    category = ""
    changes: list[str] = []

    def close() -> None:
        if version is None:
            return
        if version.lower() == "unreleased" and not include_unreleased:
            return
        entries.append(HistoryEntry(version, date, tuple(changes)))

    for line in text.splitlines():
        release = _RELEASE.match(line) if line.startswith("## ") else None
        if release:
            close()
            version, date = release["version"], release["date"] or ""
            category, changes = "", []
            continue
        if version is None or _LINK_DEF.match(line):
            continue
        heading = _CATEGORY.match(line)
        if heading:
            category = heading["name"]
            continue
        item = _ITEM.match(line)
        if item and len(item["indent"]) < 2:
            text_ = item["text"].strip()
            changes.append(f"{category}: {text_}" if category else text_)
        elif line.strip() and changes and line.startswith((" ", "\t")):
            changes[-1] = f"{changes[-1]} {line.strip()}"  # continuation of the item
    close()
    return entries


def read_history(path: Path, include_unreleased: bool = False) -> list[HistoryEntry]:
    """The document history from a ``CHANGELOG.md`` file (or a project folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "CHANGELOG.md"
    return parse_changelog(path.read_text(encoding="utf-8"), include_unreleased)


CATEGORIES = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def summarise_changes(changes: tuple[str, ...] | list[str], sep: str = " ") -> str:
    """One paragraph: items grouped by category, each category named once
    ("Added: a. b. Fixed: c.")."""
    groups: dict[str, list[str]] = {}
    for change in changes:
        head, _, rest = change.partition(": ")
        key, text = (head, rest) if head in CATEGORIES and rest else ("", change)
        text = text.strip()
        groups.setdefault(key, []).append(text if text.endswith((".", "!", "?")) else text + ".")
    parts = [(f"{key}: " if key else "") + sep.join(items) for key, items in groups.items()]
    return sep.join(parts)


def history_markdown(entries: list[HistoryEntry]) -> str:
    """A Markdown pipe table ``Version | Date | Changes`` (the changelog's text escaped: shown
    literally, never as links or markup)."""
    from trialreport.methods import esc

    lines = ["| Version | Date | Changes |", "|:------|:-------|:--------------------------------|"]
    for entry in entries:
        changes = esc(summarise_changes(entry.changes))
        lines.append(f"| {esc(entry.version)} | {esc(entry.date)} | {changes} |")
    return "\n".join(lines) + "\n"
