"""Parse a CDISC Define-XML 2.0 or 2.1 file into typed metadata: datasets, variables, codelists.

Parsing is safe (defusedxml: no DTD, no entity expansion, no external references, no network)
and strict: malformed XML, a missing required attribute or a reference to an undefined item or
codelist is a :class:`DefineXmlError` naming the file and line. Value-level metadata
(``def:ValueListDef``, ``def:WhereClauseDef``), methods, comments and documents are read past.

References: CDISC Define-XML Specification 2.0 (2013) and 2.1 (2019); ODM 1.3.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from trialreport.io.readers import max_bytes

__all__ = ["CodeList", "CodeListItem", "DatasetDef", "Define", "DefineXmlError", "ItemDef",
           "ItemRef", "read_define"]

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NAMESPACES = {"http://www.cdisc.org/ns/def/v2.0": "2.0",
                  "http://www.cdisc.org/ns/def/v2.1": "2.1"}
XML_NS = "http://www.w3.org/XML/1998/namespace"


class DefineXmlError(ValueError):
    """A define.xml file cannot be read; the message names the file and, where known, the line."""

    def __init__(self, file: str, message: str, line: int | None = None):
        self.file, self.message, self.line = file, message, line
        super().__init__(f"{file}{f', line {line}' if line else ''}: {message}")


@dataclass(frozen=True)
class CodeListItem:
    """One coded value, with its decode where the codelist gives one."""

    code: str
    decode: str | None = None
    order: int | None = None


@dataclass(frozen=True)
class CodeList:
    """A ``CodeList``: coded values (``CodeListItem``/``EnumeratedItem``) or an external
    dictionary (``ExternalCodeList``, e.g. MedDRA) whose values are not listed."""

    oid: str
    name: str
    data_type: str
    items: tuple[CodeListItem, ...] = ()
    dictionary: str | None = None
    dictionary_version: str | None = None

    @property
    def codes(self) -> list[str]:
        """The coded values in codelist order."""
        return [item.code for item in self.items]

    @property
    def has_decodes(self) -> bool:
        """True when every item has a decode (a ``CodeListItem`` codelist)."""
        return bool(self.items) and all(item.decode is not None for item in self.items)


@dataclass(frozen=True)
class ItemDef:
    """An ``ItemDef`` (a variable's definition, possibly shared by several datasets)."""

    oid: str
    name: str
    label: str | None
    data_type: str
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    codelist_oid: str | None = None


@dataclass(frozen=True)
class ItemRef:
    """A dataset's reference to an ``ItemDef``: order, whether mandatory, key position."""

    item_oid: str
    order: int | None = None
    mandatory: bool = False
    key_sequence: int | None = None
    role: str | None = None


@dataclass(frozen=True)
class DatasetDef:
    """An ``ItemGroupDef`` (a dataset)."""

    oid: str
    name: str
    label: str | None
    structure: str | None
    dataset_class: str | None
    purpose: str | None
    item_refs: tuple[ItemRef, ...]
    file: str | None = None  # the def:leaf href (e.g. adsl.xpt)


@dataclass(frozen=True)
class Define:
    """Everything read from one define.xml."""

    file: str
    version: str  # "2.0" | "2.1"
    study_name: str | None
    datasets: dict[str, DatasetDef]  # by upper-case dataset name
    items: dict[str, ItemDef]  # by OID
    codelists: dict[str, CodeList]  # by OID

    def dataset(self, name: str) -> DatasetDef | None:
        """The dataset called ``name`` (case-insensitive), or ``None``."""
        return self.datasets.get(name.upper())

    def variables(self, dataset: str) -> list[tuple[ItemRef, ItemDef]]:
        """(reference, definition) of every variable of ``dataset`` in define order."""
        ds = self.datasets[dataset.upper()]
        refs = sorted(ds.item_refs, key=lambda r: (r.order is None, r.order or 0))
        return [(ref, self.items[ref.item_oid]) for ref in refs]

    def keys(self, dataset: str) -> tuple[str, ...]:
        """The key variables of ``dataset`` in ``KeySequence`` order."""
        keyed = [(ref.key_sequence, item.name) for ref, item in self.variables(dataset)
                 if ref.key_sequence is not None]
        return tuple(name for _, name in sorted(keyed))

    def codelist(self, item: ItemDef) -> CodeList | None:
        """The codelist an item refers to, or ``None``."""
        return self.codelists[item.codelist_oid] if item.codelist_oid else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


class _Doc:
    """The parsed tree with the line of every element (expat reports it while building)."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: dict[Element, int] = {}
        lines = self.lines
        parser: DefusedXMLParser

        class _Builder(TreeBuilder):
            def start(self, tag, attrs):  # TreeBuilder.start, recording the line
                element = super().start(tag, attrs)
                lines[element] = parser.parser.CurrentLineNumber
                return element

        parser = DefusedXMLParser(target=_Builder(), forbid_dtd=True, forbid_entities=True,
                                  forbid_external=True)
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 16):
                    parser.feed(chunk)
            self.root = parser.close()
        except ParseError as exc:
            line, column = exc.position
            raise DefineXmlError(str(path), f"not well-formed XML ({str(exc).split(':')[0]}, "
                                 f"column {column + 1})", line) from None
        except DefusedXmlException as exc:
            raise DefineXmlError(str(path), f"refused for safety: {type(exc).__name__} (a "
                                 "define.xml needs no DTD, entities or external references)") \
                from None

    def error(self, element: Element, message: str) -> DefineXmlError:
        return DefineXmlError(str(self.path), message, self.lines.get(element))

    def attr(self, element: Element, name: str, required: bool = True) -> str | None:
        """Attribute ``name`` (``def:`` attributes by local name, any def namespace)."""
        for key, value in element.attrib.items():
            if _local(key) == name and (not key.startswith("{") or _namespace(key) != XML_NS):
                return value
        if required:
            raise self.error(element, f"<{_local(element.tag)}> lacks the attribute {name}")
        return None

    def integer(self, element: Element, name: str) -> int | None:
        text = self.attr(element, name, required=False)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise self.error(element, f"{name}={text!r} is not an integer") from None


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, container: str) -> str | None:
    """The TranslatedText inside ``container`` (English first, else the first)."""
    for holder in _children(element, container):
        texts = _children(holder, "TranslatedText")
        english = [t for t in texts if t.get(f"{{{XML_NS}}}lang", "en").startswith("en")]
        chosen = (english or texts)[:1]
        if chosen:
            return (chosen[0].text or "").strip() or None
    return None


def _codelist(doc: _Doc, element: Element) -> CodeList:
    items = []
    for child in element:
        kind = _local(child.tag)
        if kind in ("CodeListItem", "EnumeratedItem"):
            items.append(CodeListItem(
                code=doc.attr(child, "CodedValue") or "",
                decode=_text(child, "Decode") if kind == "CodeListItem" else None,
                order=doc.integer(child, "OrderNumber")))
    external = _children(element, "ExternalCodeList")
    return CodeList(
        oid=doc.attr(element, "OID") or "", name=doc.attr(element, "Name") or "",
        data_type=doc.attr(element, "DataType") or "", items=tuple(items),
        dictionary=doc.attr(external[0], "Dictionary", required=False) if external else None,
        dictionary_version=doc.attr(external[0], "Version", required=False)
        if external else None)


def _item(doc: _Doc, element: Element) -> ItemDef:
    refs = _children(element, "CodeListRef")
    return ItemDef(
        oid=doc.attr(element, "OID") or "", name=doc.attr(element, "Name") or "",
        label=_text(element, "Description"), data_type=doc.attr(element, "DataType") or "",
        length=doc.integer(element, "Length"),
        significant_digits=doc.integer(element, "SignificantDigits"),
        display_format=doc.attr(element, "DisplayFormat", required=False),
        codelist_oid=doc.attr(refs[0], "CodeListOID") if refs else None)


def _dataset(doc: _Doc, element: Element) -> DatasetDef:
    refs = []
    for ref in _children(element, "ItemRef"):
        mandatory = doc.attr(ref, "Mandatory") or ""
        if mandatory not in ("Yes", "No"):
            raise doc.error(ref, f"Mandatory={mandatory!r} must be Yes or No")
        refs.append(ItemRef(item_oid=doc.attr(ref, "ItemOID") or "",
                            order=doc.integer(ref, "OrderNumber"), mandatory=mandatory == "Yes",
                            key_sequence=doc.integer(ref, "KeySequence"),
                            role=doc.attr(ref, "Role", required=False)))
    dataset_class = doc.attr(element, "Class", required=False)  # 2.0: an attribute
    for cls in _children(element, "Class"):  # 2.1: an element with a Name
        dataset_class = doc.attr(cls, "Name")
    leaves = _children(element, "leaf")
    href = None
    for key, value in (leaves[0].attrib.items() if leaves else ()):
        if _local(key) == "href":
            href = value
    return DatasetDef(
        oid=doc.attr(element, "OID") or "", name=(doc.attr(element, "Name") or "").upper(),
        label=_text(element, "Description"), structure=doc.attr(element, "Structure",
                                                                  required=False),
        dataset_class=dataset_class, purpose=doc.attr(element, "Purpose", required=False),
        item_refs=tuple(refs), file=href)


def _unique(doc: _Doc, found: dict, key: str, element: Element, what: str) -> None:
    if key in found:
        raise doc.error(element, f"{what} {key} is defined twice")


def read_define(path: Path) -> Define:
    """Read one define.xml (Define-XML 2.0 or 2.1).

    Raises :class:`DefineXmlError` naming the file and line for malformed or unsafe XML, a
    file that is not Define-XML, a missing attribute, a duplicate OID or an ``ItemOID`` /
    ``CodeListOID`` that nothing defines.
    """
    path = Path(path)
    if not path.is_file():
        raise DefineXmlError(str(path), "file not found")
    if path.stat().st_size > max_bytes():
        raise DefineXmlError(str(path), "file is above the size limit (TRIALREPORT_MAX_FILE_MB)")
    doc = _Doc(path)
    root = doc.root
    if _local(root.tag) != "ODM" or _namespace(root.tag) != ODM_NS:
        raise doc.error(root, f"not a Define-XML file: the root element is <{root.tag}>, "
                        f"expected <ODM> in namespace {ODM_NS}")
    versions = {DEF_NAMESPACES[_namespace(e.tag)] for e in root.iter()
                if _namespace(e.tag) in DEF_NAMESPACES}
    versions |= {DEF_NAMESPACES[_namespace(k)] for e in root.iter() for k in e.attrib
                 if _namespace(k) in DEF_NAMESPACES}
    if not versions:
        raise doc.error(root, "not a Define-XML 2.0 or 2.1 file: no element or attribute in "
                        f"a def: namespace ({', '.join(DEF_NAMESPACES)})")
    if len(versions) > 1:
        raise doc.error(root, "mixes the Define-XML 2.0 and 2.1 namespaces")
    mdvs = [e for e in root.iter() if _local(e.tag) == "MetaDataVersion"]
    if len(mdvs) != 1:
        raise doc.error(root, f"expected one <MetaDataVersion>, found {len(mdvs)}")
    study_names = [(e.text or "").strip() for e in root.iter() if _local(e.tag) == "StudyName"]
    datasets: dict[str, DatasetDef] = {}
    items: dict[str, ItemDef] = {}
    codelists: dict[str, CodeList] = {}
    where: dict[str, Element] = {}
    for element in mdvs[0]:
        kind = _local(element.tag)
        if kind == "ItemGroupDef":
            ds = _dataset(doc, element)
            _unique(doc, datasets, ds.name, element, "dataset")
            datasets[ds.name] = ds
            where[ds.name] = element
        elif kind == "ItemDef":
            item = _item(doc, element)
            _unique(doc, items, item.oid, element, "ItemDef")
            items[item.oid] = item
            where[item.oid] = element
        elif kind == "CodeList":
            codelist = _codelist(doc, element)
            _unique(doc, codelists, codelist.oid, element, "CodeList")
            codelists[codelist.oid] = codelist
    for ds in datasets.values():
        for ref, ref_element in zip(ds.item_refs, _children(where[ds.name], "ItemRef"),
                                    strict=True):
            if ref.item_oid not in items:
                raise doc.error(ref_element, f"dataset {ds.name} refers to ItemOID "
                                f"{ref.item_oid}, which no ItemDef defines")
    for item in items.values():
        if item.codelist_oid and item.codelist_oid not in codelists:
            raise doc.error(where[item.oid], f"ItemDef {item.oid} refers to CodeListOID "
                            f"{item.codelist_oid}, which no CodeList defines")
    return Define(file=str(path), version=versions.pop(),
                  study_name=next((n for n in study_names if n), None), datasets=datasets,
                  items=items, codelists=codelists)
