"""define.xml (Define-XML 2.0 and 2.1): datasets, variables, keys and codelists read into typed
metadata; malformed or unsafe files refused with the file and line named."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialreport.demodata.sas_define import codelists
from trialreport.demodata.sas_trial import build_sas_trial, write_sas_trial
from trialreport.io.define_xml import DefineXmlError, read_define


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("define")
    write_sas_trial(folder, n_subjects=30, arms=4, seed=11)
    return folder


def test_generated_define_round_trips(trial) -> None:
    written = build_sas_trial(n_subjects=30, arms=4, seed=11)
    define = read_define(trial / "define.xml")
    assert define.version == "2.0" and define.study_name == "VLT-301"
    assert list(define.datasets) == list(written)
    for name, ds in written.items():
        parsed = define.dataset(name.lower())
        assert (parsed.label, parsed.structure, parsed.dataset_class, parsed.file) == (
            ds.label, ds.structure, ds.dataset_class, ds.file)
        variables = define.variables(name)
        assert [item.name for _, item in variables] == [v.name for v in ds.variables]
        assert [item.label for _, item in variables] == [v.label for v in ds.variables]
        assert define.keys(name) == tuple(v.name for v in sorted(
            (v for v in ds.variables if v.key), key=lambda v: v.key))
        for ref, item in variables:
            assert ref.mandatory == bool(ds.frame[item.name].notna().all())
            assert item.codelist_oid == ds.variable(item.name).codelist
    adsl = {item.name: item for _, item in define.variables("ADSL")}
    assert (adsl["TRTSDT"].data_type, adsl["TRTSDT"].display_format) == ("integer", "DATE9.")
    assert (adsl["BMIBL"].data_type, adsl["BMIBL"].significant_digits) == ("float", 1)
    assert adsl["SEX"].length == 1 and adsl["USUBJID"].length == max(
        map(len, written["ADSL"].frame["USUBJID"]))
    expected = codelists(4)
    for oid, codelist in define.codelists.items():
        name, data_type, items = expected[oid]
        assert (codelist.name, codelist.data_type) == (name, data_type)
        if isinstance(items, str):
            assert codelist.dictionary == items and codelist.items == ()
        else:
            assert [(i.code, i.decode) for i in codelist.items] == items
    sex = define.codelist(adsl["SEX"])
    assert sex.has_decodes and sex.codes == ["F", "M"]
    assert define.codelists["CL.ARMN"].codes == ["0", "25", "50", "75"]
    assert not define.codelists["CL.RACE"].has_decodes  # EnumeratedItem: no decodes


DEFINE_21 = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1"
     xmlns:xlink="http://www.w3.org/1999/xlink" ODMVersion="1.3.2" FileType="Snapshot"
     FileOID="X" CreationDateTime="2024-01-01T00:00:00">
  <Study OID="S1">
    <GlobalVariables><StudyName>ABC-123</StudyName><StudyDescription>d</StudyDescription>
      <ProtocolName>ABC-123</ProtocolName></GlobalVariables>
    <MetaDataVersion OID="MDV.1" Name="m" def:DefineVersion="2.1.7">
      <def:Standards><def:Standard OID="STD.1" Name="ADaMIG" Type="IG" Version="1.1"
        Status="Final"/></def:Standards>
      <def:ValueListDef OID="VL.1"><ItemRef ItemOID="IT.V" Mandatory="No">
        <def:WhereClauseRef WhereClauseOID="WC.1"/></ItemRef></def:ValueListDef>
      <def:WhereClauseDef OID="WC.1"><RangeCheck Comparator="EQ" SoftHard="Soft"
        def:ItemOID="IT.ADVS.PARAMCD"><CheckValue>SYSBP</CheckValue></RangeCheck>
      </def:WhereClauseDef>
      <ItemGroupDef OID="IG.ADVS" Name="ADVS" Repeating="Yes" IsReferenceData="No"
          SASDatasetName="ADVS" def:Structure="One record per subject per parameter per visit"
          Purpose="Analysis" def:StandardOID="STD.1" def:ArchiveLocationID="LF.ADVS">
        <Description><TranslatedText xml:lang="fr">Signes vitaux</TranslatedText>
          <TranslatedText xml:lang="en">Vital Signs Analysis Dataset</TranslatedText></Description>
        <ItemRef ItemOID="IT.USUBJID" Mandatory="Yes" OrderNumber="1" KeySequence="1"/>
        <ItemRef ItemOID="IT.ADVS.AVISITN" Mandatory="Yes" OrderNumber="3" KeySequence="3"/>
        <ItemRef ItemOID="IT.ADVS.PARAMCD" Mandatory="Yes" OrderNumber="2" KeySequence="2"/>
        <ItemRef ItemOID="IT.ADVS.ADTM" Mandatory="No" OrderNumber="4"/>
        <def:Class Name="BASIC DATA STRUCTURE"/>
        <def:leaf ID="LF.ADVS" xlink:href="advs.xpt"><def:title>advs.xpt</def:title></def:leaf>
      </ItemGroupDef>
      <ItemDef OID="IT.USUBJID" Name="USUBJID" DataType="text" Length="20">
        <Description><TranslatedText xml:lang="en">Unique Subject Identifier</TranslatedText>
        </Description></ItemDef>
      <ItemDef OID="IT.ADVS.PARAMCD" Name="PARAMCD" DataType="text" Length="8">
        <Description><TranslatedText xml:lang="en">Parameter Code</TranslatedText></Description>
        <CodeListRef CodeListOID="CL.PARAMCD"/></ItemDef>
      <ItemDef OID="IT.ADVS.AVISITN" Name="AVISITN" DataType="integer" Length="8">
        <Description><TranslatedText xml:lang="en">Analysis Visit (N)</TranslatedText>
        </Description></ItemDef>
      <ItemDef OID="IT.ADVS.ADTM" Name="ADTM" DataType="integer" Length="8"
          def:DisplayFormat="E8601DT19.">
        <Description><TranslatedText xml:lang="en">Analysis Datetime</TranslatedText>
        </Description></ItemDef>
      <ItemDef OID="IT.V" Name="AVAL" DataType="float" Length="8" SignificantDigits="2"/>
      <CodeList OID="CL.PARAMCD" Name="Parameter Code" DataType="text">
        <CodeListItem CodedValue="SYSBP" OrderNumber="1"><Decode>
          <TranslatedText xml:lang="en">Systolic Blood Pressure (mmHg)</TranslatedText>
        </Decode></CodeListItem>
        <CodeListItem CodedValue="DIABP" OrderNumber="2"><Decode>
          <TranslatedText xml:lang="en">Diastolic Blood Pressure (mmHg)</TranslatedText>
        </Decode></CodeListItem>
      </CodeList>
      <MethodDef OID="MT.1" Name="m" Type="Computation"><Description>
        <TranslatedText xml:lang="en">x</TranslatedText></Description></MethodDef>
      <def:CommentDef OID="C.1"><Description><TranslatedText>c</TranslatedText></Description>
      </def:CommentDef>
    </MetaDataVersion>
  </Study>
</ODM>
"""


def test_define_21_with_class_element_and_value_level_metadata(tmp_path) -> None:
    path = tmp_path / "define.xml"
    path.write_text(DEFINE_21, encoding="utf-8")
    define = read_define(path)
    assert define.version == "2.1" and define.study_name == "ABC-123"
    advs = define.dataset("advs")
    assert advs.dataset_class == "BASIC DATA STRUCTURE"
    assert advs.label == "Vital Signs Analysis Dataset"  # the English text
    assert [item.name for _, item in define.variables("ADVS")] == [
        "USUBJID", "PARAMCD", "AVISITN", "ADTM"]  # by OrderNumber
    assert define.keys("ADVS") == ("USUBJID", "PARAMCD", "AVISITN")
    paramcd = define.items["IT.ADVS.PARAMCD"]
    assert [(i.code, i.decode) for i in define.codelist(paramcd).items] == [
        ("SYSBP", "Systolic Blood Pressure (mmHg)"),
        ("DIABP", "Diastolic Blood Pressure (mmHg)")]
    assert define.items["IT.ADVS.ADTM"].display_format == "E8601DT19."


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in DEFINE_21
    path = tmp_path / "define.xml"
    path.write_text(DEFINE_21.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(text: str) -> int:
    return DEFINE_21[:DEFINE_21.index(text)].count("\n") + 1


@pytest.mark.parametrize(("old", "new", "message", "line_text"), [
    ("</ItemGroupDef>", "</ItemGroup>", "not well-formed XML", "</ItemGroupDef>"),
    ('ItemOID="IT.ADVS.ADTM" Mandatory', 'ItemOID="IT.ADVS.NOPE" Mandatory',
     "ItemOID IT.ADVS.NOPE, which no ItemDef defines", 'ItemOID="IT.ADVS.ADTM" Mandatory'),
    ('CodeListOID="CL.PARAMCD"', 'CodeListOID="CL.NONE"',
     "CodeListOID CL.NONE, which no CodeList defines", '<ItemDef OID="IT.ADVS.PARAMCD"'),
    ('Mandatory="Yes" OrderNumber="1"', 'Mandatory="Maybe" OrderNumber="1"',
     "Mandatory='Maybe' must be Yes or No", 'Mandatory="Yes" OrderNumber="1"'),
    ('OrderNumber="3" KeySequence="3"', 'OrderNumber="3" KeySequence="third"',
     "KeySequence='third' is not an integer", 'OrderNumber="3" KeySequence="3"'),
    ('<ItemDef OID="IT.V" Name="AVAL"', '<ItemDef OID="IT.V"',
     "lacks the attribute Name", '<ItemDef OID="IT.V"'),
    ('<ItemDef OID="IT.V" Name="AVAL"', '<ItemDef OID="IT.USUBJID" Name="AVAL"',
     "ItemDef IT.USUBJID is defined twice", '<ItemDef OID="IT.V"'),
])
def test_broken_define_names_file_and_line(tmp_path, old, new, message, line_text) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(DefineXmlError) as err:
        read_define(path)
    assert message in err.value.message and str(path) in str(err.value)
    assert err.value.line == _line_of(line_text)


@pytest.mark.parametrize(("text", "message"), [
    ('<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY lol "lol">]>\n<ODM>&lol;</ODM>',
     "refused for safety"),
    ('<?xml version="1.0"?>\n<!DOCTYPE ODM SYSTEM "http://example.invalid/odm.dtd">\n<ODM/>',
     "refused for safety"),
    ('<?xml version="1.0"?>\n<html><body/></html>', "not a Define-XML file"),
    ('<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study/></ODM>', "no element or attribute"),
    ("", "not well-formed XML"),
])
def test_unsafe_or_foreign_xml_is_refused(tmp_path, text, message) -> None:
    path = tmp_path / "define.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefineXmlError, match=message):
        read_define(path)


def test_missing_define_is_an_error(tmp_path) -> None:
    with pytest.raises(DefineXmlError, match="file not found"):
        read_define(tmp_path / "define.xml")
