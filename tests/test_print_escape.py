"""Text from input files reaches HTML, Word and typst as text (issue 9.6, render part):
``trialreport.render.escape.markdown_text`` for inserted text, and the Lua filter's safety pass
for anything that gets into the Markdown some other way."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from print_helpers import build, chapter

from trialreport.render.escape import markdown_code, markdown_text

HOSTILE = [
    "[click](javascript:alert(1))",
    "<script>alert(1)</script>",
    "<a href=\"javascript:alert(2)\">x</a>",
    "#read(\"/etc/passwd\")",
    "`#read(\"/etc/passwd\")`{=typst}",
    "$x^2$ and $$y$$",
    "@tbl-x and [@fig-y]",
    "{{< meta title >}}",
    "![](/etc/passwd)",
    "**bold** _it_ ~sub~ ^sup^",
    "| a | b |",
    "<!-- comment --> & &amp; \\ done",
    "1. list? # heading? > quote?",
    "line one\nline two\ttab\x01ctl",
]


def _paragraphs(items: list[str]) -> str:
    return chapter("x.qmd") + "# Data\n\n" + "\n\n".join(
        f"Value {i}: {markdown_text(text)}" for i, text in enumerate(items)) + "\n"


def test_markdown_text_escapes_every_ascii_punctuation() -> None:
    text = markdown_text("a-b.c$d@e{f}<g>`h`[i](j)")
    assert text == r"a\-b\.c\$d\@e\{f\}\<g\>\`h\`\[i\]\(j\)"
    assert markdown_text("x\ny\r\nz\tw") == "x y z w"
    assert markdown_text("bell\x07") == "bell\ufffd"
    assert markdown_text(12) == "12"


def test_markdown_code_fences_longer_than_the_text() -> None:
    assert markdown_code("a`b") == "``a`b``"
    assert markdown_code("`x`") == "`` `x` ``"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[str]]]:
    tmp = tmp_path_factory.mktemp("escape")
    book = _paragraphs(HOSTILE)
    return {fmt: build(tmp, book, fmt) for fmt in ("html", "docx", "pdf")}


def test_html_shows_the_text_and_has_no_live_markup(rendered) -> None:
    html = rendered["html"][0].read_text(encoding="utf-8")
    body = html[html.index("<body"):]
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", body, flags=re.I)
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "[click](javascript:alert(1))" in body  # the text itself, literally
    assert "<math" not in body and "$x^2$" in body
    assert "{{&lt; meta title &gt;}}" in body  # no shortcode expansion
    assert "<img" not in body and "/etc/passwd" in body
    assert "<strong>" not in body


def test_typst_source_has_no_unescaped_hash_or_dollar(rendered) -> None:
    pdf, warnings = rendered["pdf"]
    typ = pdf.with_suffix(".typ").read_text(encoding="utf-8")
    body = typ[typ.index("= Data"):] if "= Data" in typ else typ[typ.index("Value 0"):]
    assert re.search(r"(?<!\\)#read", body) is None
    assert re.search(r"(?<!\\)\$", body) is None
    assert "read" in body and not any("passwd" in w for w in warnings)
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert '#read("/etc/passwd")' in text


def test_docx_has_no_hyperlink_to_a_script(rendered) -> None:
    with zipfile.ZipFile(rendered["docx"][0]) as z:
        rels = z.read("word/_rels/document.xml.rels").decode()
        document = z.read("word/document.xml").decode()
    assert "javascript" not in rels.lower()
    assert "[click](javascript:alert(1))" in document
    assert "<w:hyperlink" not in document.split("Value 0")[1].split("Value 13")[0]


def _lua_output(tmp: Path, markdown: str, fmt: str) -> tuple[str, list[str]]:
    out, warnings = build(tmp, chapter("x.qmd") + markdown, fmt)
    if fmt == "pdf":
        return out.with_suffix(".typ").read_text(encoding="utf-8"), warnings
    if fmt == "docx":
        with zipfile.ZipFile(out) as z:
            return (z.read("word/document.xml").decode() + "\n<?xml-rels?>\n"
                    + z.read("word/_rels/document.xml.rels").decode()), warnings
    return out.read_text(encoding="utf-8"), warnings


UNESCAPED = """# Raw

Raw typst: `#read("/etc/passwd")`{=typst} and inline <b onclick="x()">html</b>.

```{=typst}
#read("/etc/passwd")
```

```{=openxml}
<w:p><w:r><w:t>INJECTED</w:t></w:r></w:p>
```

<script>alert(1)</script>

[live](javascript:alert(1)) [tab](java&#9;script:alert(1)) [ok](https://example.org)
[mail](mailto:a@b.c) [span]{onclick="alert(1)"}

![secret](/etc/passwd)
"""


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_lua_filter_neutralises_raw_output_links_and_handlers(tmp_path: Path, fmt: str) -> None:
    """Markdown that escaped the escaping (written by hand or by a careless cell): raw blocks
    are shown as code, script links lose their link, event handlers are dropped."""
    out, warnings = _lua_output(tmp_path, UNESCAPED, fmt)
    joined = "\n".join(warnings)
    assert "raw typst block shown as text" in joined and "link to javascript" in joined
    if fmt == "html":
        body = out[out.index("<body"):]
        assert "<script>" not in body and "&lt;script&gt;alert(1)" in body  # shown as code
        assert not re.search(r"<[^>]*\son\w+=", body)  # no event-handler attribute on a tag
        assert not re.search(r"href=\"\s*java", body)
        assert 'href="https://example.org"' in body and 'href="mailto:a@b.c"' in body
        assert "<img" not in body
    elif fmt == "pdf":
        body = out[out.index("Raw typst"):]
        # the raw typst is now code (typst raw text: a ``` block or a `...` span), never markup
        assert "```\n#read(\"/etc/passwd\")\n```" in body
        markup = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", body, flags=re.S))
        assert re.search(r"(?<!\\)#read", markup) is None
        assert "image(" not in body
    else:
        document, rels = out.split("\n<?xml-rels?>\n")
        assert "<w:t>INJECTED</w:t>" not in document  # the raw OpenXML is text, not markup
        assert "&lt;w:t&gt;INJECTED" in document
        assert "javascript" not in rels.lower()
        assert "example.org" in rels
