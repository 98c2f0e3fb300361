"""The study definition (``data_spec/study.yml``): typed, strict, checked against the data.

::

    from trialreport.study import load_study
    study = load_study("data_spec/study.yml")   # every problem named with file, line and key
    study.arm_labels, study.output("baseline").caption

Keys, defaults and examples: ``docs/study.md``; JSON Schema for editors: :func:`json_schema`
(``docs/schema/study.schema.json``).
"""

from __future__ import annotations

from typing import Any

from trialreport.study._check import check_against_data, dataset_roles
from trialreport.study._errors import StudyDefinitionError
from trialreport.study._load import load_study, study_from_mapping
from trialreport.study._model import StudyDefinition
from trialreport.study._study import OutputSpec, Study

__all__ = ["OutputSpec", "Study", "StudyDefinition", "StudyDefinitionError",
           "check_against_data", "dataset_roles", "json_schema", "load_study",
           "study_from_mapping"]


def json_schema() -> dict[str, Any]:
    """JSON Schema of the study definition, with each registered output type's own keys
    (``outputs[]`` items are one of the types, chosen by ``type``)."""
    from trialreport.outputs import output_types
    from trialreport.study._model import OutputEntry

    schema = StudyDefinition.model_json_schema(mode="validation")
    defs = schema.setdefault("$defs", {})
    common = OutputEntry.model_json_schema(mode="validation")
    variants = []
    for name, otype in output_types().items():
        own = otype.options.model_json_schema(mode="validation")
        for key, value in own.pop("$defs", {}).items():
            defs.setdefault(key, value)
        properties = {**common["properties"], **own.get("properties", {})}
        properties["type"] = {"const": name, "description": otype.description}
        variant = {
            "title": f"{otype.kind} output '{name}'",
            "description": otype.description,
            "type": "object",
            "properties": properties,
            "required": sorted({*common.get("required", []), *own.get("required", [])}),
            "additionalProperties": False,
        }
        defs[f"Output_{name}"] = variant
        variants.append({"$ref": f"#/$defs/Output_{name}"})
    schema["properties"]["outputs"]["items"] = {"oneOf": variants}
    defs.pop("OutputEntry", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "trialreport study definition"
    return schema
