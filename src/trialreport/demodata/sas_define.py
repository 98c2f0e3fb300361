"""The Define-XML 2.0 file of the synthetic SAS trial (:mod:`trialreport.demodata.sas_trial`).

Written like a sponsor's: ItemGroupDefs with labels, structure, class, key sequences and
def:leaf file references; ItemDefs with data type, length, display format and codelist
references (SAS dates as ``integer`` with ``DATE9.``); CodeLists with decodes
(``CodeListItem``), without (``EnumeratedItem``) and external (MedDRA); plus value-level
metadata (a ValueListDef with WhereClauseDefs), a method and a comment, which readers of the
dataset-level metadata must read past. Reference: CDISC Define-XML Specification 2.0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from trialreport.demodata.sas_trial import (
    ACTIONS,
    DC_REASONS,
    ETHNICITIES,
    OUTCOMES,
    RACES,
    RESPONSE_PARAM,
    SCORE_PARAM,
    SEVERITIES,
    STUDYID,
    TTE_PARAMS,
    VISITS,
    SasDataset,
    sas_arms,
)

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.0"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DATA_TYPES = {"text": "text", "integer": "integer", "float": "float", "date": "integer"}


def codelists(arms: int) -> dict[str, tuple[str, str, list[tuple[str, str | None]] | str]]:
    """OID -> (name, data type, [(code, decode or None)] or an external dictionary name)."""
    arm_list = sas_arms(arms)

    def plain(values: tuple[str, ...] | list[str]) -> list[tuple[str, str | None]]:
        return [(v, None) for v in values]

    return {
        "CL.ARM": ("Treatment", "text", plain([a for a, _ in arm_list])),
        "CL.ARMN": ("Treatment (N)", "integer", [(str(d), a) for a, d in arm_list]),
        "CL.AGEGR1": ("Pooled Age Group 1", "text", plain(("<65", ">=65"))),
        "CL.SEX": ("Sex", "text", [("F", "Female"), ("M", "Male")]),
        "CL.RACE": ("Race", "text", plain(RACES)),
        "CL.ETHNIC": ("Ethnicity", "text", plain(ETHNICITIES)),
        "CL.NY": ("No Yes Response", "text", [("Y", "Yes"), ("N", "No")]),
        "CL.Y": ("Yes Response", "text", plain(("Y",))),
        "CL.EOSSTT": ("End of Study Status", "text", plain(("COMPLETED", "DISCONTINUED"))),
        "CL.DCSREAS": ("Reason for Discontinuation", "text", plain(DC_REASONS)),
        "CL.MEDDRA": ("Adverse Event Dictionary", "text", "MedDRA"),
        "CL.AESEV": ("Severity/Intensity Scale", "text", plain(SEVERITIES)),
        "CL.AEREL": ("Causality", "text", plain(("NOT RELATED", "RELATED"))),
        "CL.AEOUT": ("Outcome of Event", "text", plain(OUTCOMES)),
        "CL.AEACN": ("Action Taken with Study Treatment", "text", plain(ACTIONS)),
        "CL.EFFPARAMCD": ("Efficacy Parameter Code", "text",
                          [("SYMSCORE", SCORE_PARAM), ("RESP", RESPONSE_PARAM)]),
        "CL.AVISIT": ("Analysis Visit", "text", plain([v for _, v in VISITS])),
        "CL.AVISITN": ("Analysis Visit (N)", "integer", [(str(w), v) for w, v in VISITS]),
        "CL.TTEPARAMCD": ("Time-to-Event Parameter Code", "text",
                          [(p[0], p[1]) for p in TTE_PARAMS]),
        "CL.CNSR": ("Censor", "integer", [("0", "Event"), ("1", "Censored")]),
        "CL.EVNTDESC": ("Event or Censoring Description", "text",
                        plain([p[2] for p in TTE_PARAMS] + ["END OF FOLLOW-UP"])),
    }


def _described(parent: ET.Element, tag: str, text: str) -> None:
    holder = ET.SubElement(parent, tag)
    ET.SubElement(holder, f"{{{ODM}}}TranslatedText", {XML_LANG: "en"}).text = text


def _text_length(values: pd.Series) -> int:
    present = values.dropna().astype(str)
    return max(1, int(present.str.len().max())) if len(present) else 1


def _item_def(mdv: ET.Element, ds: SasDataset, name: str) -> None:
    var = ds.variable(name)
    attrs = {"OID": f"IT.{ds.name}.{name}", "Name": name, "DataType": DATA_TYPES[var.kind],
             "SASFieldName": name}
    if var.kind == "text":
        attrs["Length"] = str(_text_length(ds.frame[name]))
    else:
        attrs["Length"] = "8"
        attrs[f"{{{DEF}}}DisplayFormat"] = {"date": "DATE9.", "integer": "8.",
                                            "float": "8.1"}[var.kind]
    if var.kind == "float":
        attrs["SignificantDigits"] = "1"
    item = ET.SubElement(mdv, f"{{{ODM}}}ItemDef", attrs)
    _described(item, f"{{{ODM}}}Description", var.label)
    if var.codelist:
        ET.SubElement(item, f"{{{ODM}}}CodeListRef", {"CodeListOID": var.codelist})
    ET.SubElement(item, f"{{{DEF}}}Origin", {"Type": "Derived"})
    if ds.name == "ADTTE" and name == "AVAL":
        ET.SubElement(item, f"{{{DEF}}}ValueListRef", {"ValueListOID": "VL.ADTTE.AVAL"})


def _value_level(mdv: ET.Element) -> None:
    """Value-level metadata for ADTTE.AVAL by PARAMCD (read past by the parser)."""
    vl = ET.SubElement(mdv, f"{{{DEF}}}ValueListDef", {"OID": "VL.ADTTE.AVAL"})
    for order, (paramcd, *_rest) in enumerate(TTE_PARAMS, start=1):
        ref = ET.SubElement(vl, f"{{{ODM}}}ItemRef", {
            "ItemOID": f"IT.ADTTE.AVAL.{paramcd}", "OrderNumber": str(order),
            "Mandatory": "Yes", "MethodOID": "MT.ADTTE.AVAL"})
        ET.SubElement(ref, f"{{{DEF}}}WhereClauseRef", {"WhereClauseOID": f"WC.{paramcd}"})
    for paramcd, *_rest in TTE_PARAMS:
        wc = ET.SubElement(mdv, f"{{{DEF}}}WhereClauseDef", {"OID": f"WC.{paramcd}"})
        check = ET.SubElement(wc, f"{{{ODM}}}RangeCheck", {
            "SoftHard": "Soft", f"{{{DEF}}}ItemOID": "IT.ADTTE.PARAMCD", "Comparator": "EQ"})
        ET.SubElement(check, f"{{{ODM}}}CheckValue").text = paramcd


def _codelist(mdv: ET.Element, oid: str, spec: tuple) -> None:
    name, data_type, items = spec
    cl = ET.SubElement(mdv, f"{{{ODM}}}CodeList", {"OID": oid, "Name": name,
                                                   "DataType": data_type})
    if isinstance(items, str):
        ET.SubElement(cl, f"{{{ODM}}}ExternalCodeList", {"Dictionary": items,
                                                         "Version": "26.0"})
        return
    for order, (code, decode) in enumerate(items, start=1):
        if decode is None:
            ET.SubElement(cl, f"{{{ODM}}}EnumeratedItem", {"CodedValue": code,
                                                           "OrderNumber": str(order)})
        else:
            item = ET.SubElement(cl, f"{{{ODM}}}CodeListItem", {"CodedValue": code,
                                                                "OrderNumber": str(order)})
            _described(item, f"{{{ODM}}}Decode", decode)


def write_define(path: Path, datasets: dict[str, SasDataset], arms: int) -> Path:
    """Write ``define.xml`` (Define-XML 2.0) describing ``datasets``; returns its path."""
    ET.register_namespace("", ODM)
    ET.register_namespace("def", DEF)
    ET.register_namespace("xlink", XLINK)
    odm = ET.Element(f"{{{ODM}}}ODM", {
        "ODMVersion": "1.3.2", "FileType": "Snapshot", "FileOID": f"DEF.{STUDYID}.ADAM",
        "CreationDateTime": "2024-09-17T00:00:00", "Originator": "trialreport.demodata"})
    study = ET.SubElement(odm, f"{{{ODM}}}Study", {"OID": STUDYID})
    globals_ = ET.SubElement(study, f"{{{ODM}}}GlobalVariables")
    ET.SubElement(globals_, f"{{{ODM}}}StudyName").text = STUDYID
    ET.SubElement(globals_, f"{{{ODM}}}StudyDescription").text = (
        "Synthetic multi-arm trial for tests (not a real study)")
    ET.SubElement(globals_, f"{{{ODM}}}ProtocolName").text = STUDYID
    mdv = ET.SubElement(study, f"{{{ODM}}}MetaDataVersion", {
        "OID": "MDV.1", "Name": "ADaM metadata", f"{{{DEF}}}DefineVersion": "2.0.0",
        f"{{{DEF}}}StandardName": "ADaM-IG", f"{{{DEF}}}StandardVersion": "1.1"})
    if "ADTTE" in datasets:
        _value_level(mdv)
    for ds in datasets.values():
        group = ET.SubElement(mdv, f"{{{ODM}}}ItemGroupDef", {
            "OID": f"IG.{ds.name}", "Name": ds.name, "Repeating": "No" if ds.name == "ADSL"
            else "Yes", "IsReferenceData": "No", "SASDatasetName": ds.name,
            "Purpose": "Analysis", f"{{{DEF}}}Structure": ds.structure,
            f"{{{DEF}}}Class": ds.dataset_class, f"{{{DEF}}}ArchiveLocationID": f"LF.{ds.name}"})
        _described(group, f"{{{ODM}}}Description", ds.label)
        for order, var in enumerate(ds.variables, start=1):
            attrs = {"ItemOID": f"IT.{ds.name}.{var.name}", "OrderNumber": str(order),
                     "Mandatory": "Yes" if ds.frame[var.name].notna().all() else "No"}
            if var.key is not None:
                attrs["KeySequence"] = str(var.key)
            ET.SubElement(group, f"{{{ODM}}}ItemRef", attrs)
        leaf = ET.SubElement(group, f"{{{DEF}}}leaf", {"ID": f"LF.{ds.name}",
                                                       f"{{{XLINK}}}href": ds.file})
        ET.SubElement(leaf, f"{{{DEF}}}title").text = ds.file
    for ds in datasets.values():
        for var in ds.variables:
            _item_def(mdv, ds, var.name)
    if "ADTTE" in datasets:
        for paramcd, *_rest in TTE_PARAMS:
            item = ET.SubElement(mdv, f"{{{ODM}}}ItemDef", {
                "OID": f"IT.ADTTE.AVAL.{paramcd}", "Name": "AVAL", "DataType": "integer",
                "Length": "8", "SASFieldName": "AVAL"})
            _described(item, f"{{{ODM}}}Description", f"Analysis Value ({paramcd})")
    used = {v.codelist for ds in datasets.values() for v in ds.variables if v.codelist}
    for oid, spec in codelists(arms).items():
        if oid in used:
            _codelist(mdv, oid, spec)
    method = ET.SubElement(mdv, f"{{{ODM}}}MethodDef", {"OID": "MT.ADTTE.AVAL",
                                                         "Name": "Time to event",
                                                         "Type": "Computation"})
    _described(method, f"{{{ODM}}}Description", "AVAL = ADT - STARTDT + 1")
    comment = ET.SubElement(mdv, f"{{{DEF}}}CommentDef", {"OID": "COM.SYNTHETIC"})
    _described(comment, f"{{{ODM}}}Description", "Synthetic data generated for tests.")
    tree = ET.ElementTree(odm)
    ET.indent(tree)
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return path
