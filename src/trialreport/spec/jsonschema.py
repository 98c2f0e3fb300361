"""JSON Schemas of the specification files, generated from the pydantic models.

``docs/schema/data_spec.schema.json`` describes a ``<dataset>.yml`` file and
``docs/schema/rules.schema.json`` the ``rules.yml`` file, for editors that complete and check
YAML against a schema. The models stay the authority: they also check what a schema cannot
(rule expressions, columns named by keys and rules, codes of the variable's type).

Regenerate after changing the models::

    .venv/bin/python -m trialreport.spec.jsonschema docs/schema
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from trialreport.spec.model import DatasetSpec, RulesFile

BASE = "https://trialreport.invalid/schema/"
SCHEMAS = {"data_spec.schema.json": (DatasetSpec, "Dataset specification (data_spec/<dataset>"
                                                  ".yml)"),
           "rules.schema.json": (RulesFile, "Cross-dataset rules (data_spec/rules.yml)")}


def schema(model: type, title: str, name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one specification file."""
    body = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": BASE + name,
            **body, "title": title}


def schema_texts() -> dict[str, str]:
    """File name -> schema text (sorted keys, two-space indent, final newline)."""
    return {name: json.dumps(schema(model, title, name), indent=2, sort_keys=True,
                             ensure_ascii=False) + "\n"
            for name, (model, title) in SCHEMAS.items()}


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        (folder / name).write_text(text, encoding="utf-8", newline="\n")
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")):
        print(f"wrote {path}")
