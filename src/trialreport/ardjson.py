"""The ``ard.json`` text format: metadata, then one result record per line.

Kept free of pandas so that re-stamping a cached ``ard.json`` at render time is cheap.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: dict[str, Any]) -> str:
    """``{"metadata": ..., "results": [...]}`` as UTF-8 JSON text, LF line ends, one result
    record per line; floats with ``repr`` (shortest exact round trip), NaN not allowed."""
    meta = json.dumps(obj["metadata"], ensure_ascii=False, indent=1, allow_nan=False)
    records = ",\n".join("  " + json.dumps(r, ensure_ascii=False, allow_nan=False)
                         for r in obj["results"])
    return ('{\n "metadata": ' + meta.replace("\n", "\n ") + ',\n "results": [\n'
            + records + ("\n" if records else "") + " ]\n}\n")
