"""The .docx package around the document: core and app properties, reproducible zip bytes.

Properties come from the book metadata the assembler writes (title, subtitle, the
``trialreport`` block with study, registration, sponsor and synthetic-data notice); the author
is the sponsor, never the version stamp. Times: ``SOURCE_DATE_EPOCH`` when set (reproducible
builds), else the current time; zip entries always carry the same fixed time and attributes so
that two renders of the same inputs give identical bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

#: Zip entry time when ``SOURCE_DATE_EPOCH`` is not set (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_APP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"


def source_date() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as an aware UTC datetime, or None when unset or invalid."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return "" if value is None else " ".join(str(value).split())


def report_fields(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Title, subject, sponsor, keywords and notice of the report, from the book metadata."""
    block = metadata.get("trialreport") or {}
    block = block if isinstance(block, Mapping) else {}
    keywords = [_text(block.get(k)) for k in ("study", "registration") if block.get(k)]
    return {
        "title": _text(metadata.get("title")),
        "subject": _text(metadata.get("subtitle")),
        "sponsor": _text(block.get("sponsor")),
        "keywords": "; ".join(keywords),
        "notice": _text(block.get("synthetic-notice")),
        "version": _text(metadata.get("version")),
    }


def set_core_properties(doc, metadata: Mapping[str, Any]) -> None:
    """Core properties (docProps/core.xml) of the python-docx document ``doc``."""
    fields = report_fields(metadata)
    props = doc.core_properties
    props.title = fields["title"][:255]
    props.subject = fields["subject"][:255]
    props.author = fields["sponsor"][:255]
    props.keywords = fields["keywords"][:255]
    props.comments = fields["notice"][:255]
    props.category = "Clinical study report"
    props.version = fields["version"][:255]
    props.last_modified_by = "trialreport"
    props.revision = 1
    when = (source_date() or dt.datetime.now(dt.UTC)).replace(microsecond=0, tzinfo=None)
    props.created = when
    props.modified = when


def _app_xml(data: bytes, company: str) -> bytes:
    root = etree.fromstring(data)
    node = root.find(f"{{{_APP_NS}}}Company")
    if node is None:
        node = etree.SubElement(root, f"{{{_APP_NS}}}Company")
    node.text = company
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def normalise_package(path: Path, metadata: Mapping[str, Any]) -> None:
    """Rewrite the zip with fixed entry times and attributes; set the app's Company."""
    company = report_fields(metadata)["sponsor"]
    when = source_date()
    stamp = ZIP_EPOCH if when is None else max(when.timetuple()[:6], ZIP_EPOCH)
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w") as out:
        for name, data in entries:
            if name == "docProps/app.xml" and company:
                data = _app_xml(data, company)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            out.writestr(info, data, compresslevel=6)
    os.replace(tmp, path)
