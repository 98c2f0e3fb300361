"""Small WordprocessingML helpers shared by the .docx post-processor and the reference-doc tool."""

from __future__ import annotations

from docx.oxml import OxmlElement
from docx.oxml.ns import qn


def el(tag: str, **attrs: str) -> OxmlElement:
    """A new element ``tag`` (e.g. ``w:tcBorders``) with namespaced attributes."""
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(key), value)
    return element


def border(side: str, size: str | None) -> OxmlElement:
    """A border edge: a single black rule of ``size`` eighths of a point, or none."""
    if size is None:
        return el(f"w:{side}", **{"w:val": "nil"})
    return el(f"w:{side}", **{"w:val": "single", "w:sz": size, "w:space": "0",
                              "w:color": "000000"})
