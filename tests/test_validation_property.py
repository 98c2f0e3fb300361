"""Property: whatever the CSV bytes, specification YAML or arguments, `trialreport validate`
ends with exit status 0, 1 or 2 and never with an uncaught exception.

Examples are few (this is a smoke net, not a fuzzing campaign) so the module runs in seconds.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialreport.cli import main

SPEC = """\
dataset: DM
file: dm
keys: [USUBJID]
missing_values: [NA]
variables:
  - {name: USUBJID, label: Subject, type: string, required: true, pattern: '^S\\d+$'}
  - {name: AGE, label: Age, type: integer, range: [0, 120]}
  - {name: WT, label: Weight, type: number}
  - {name: SEX, label: Sex, type: string, codelist: [F, M]}
  - {name: RANDDT, label: Randomised, type: date, required: true}
rules:
  - {id: DM-01, description: Adult, check: "AGE.isna() | (AGE >= 18)", columns: [AGE]}
"""
GOOD_CSV = b"USUBJID,AGE,WT,SEX,RANDDT\nS1,40,70.5,F,2020-01-31\nS2,,NA,M,2020-02-01\n"
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(st.sampled_from(["", "NA", "S1", "S1", "40", "-1", "1e3", "NaN", "inf",
                                   "2020-02-30", "2020-01-31", "F", "M", " ", '"', '""',
                                   "a,b", "x\ny", "\r", "é", "\x00", "9" * 25]),
                  st.text(max_size=6))
rows = st.lists(st.lists(cells, min_size=0, max_size=7), min_size=0, max_size=6)
header = st.one_of(st.just(["USUBJID", "AGE", "WT", "SEX", "RANDDT"]),
                   st.lists(st.sampled_from(["USUBJID", "AGE", "WT", "SEX", "RANDDT", "X",
                                             ""]), min_size=1, max_size=7))


def _csv_bytes(head: list[str], body: list[list[str]], newline: str) -> bytes:
    def field(value: str) -> str:
        return f'"{value}"' if any(c in value for c in ',"\r\n') and value != '"' else value

    lines = [",".join(field(v) for v in row) for row in [head, *body]]
    return newline.join(lines).encode("utf-8", errors="surrogatepass")


def _run(args: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", *args])
    assert code in (0, 1, 2), (code, err.getvalue())
    return code


def _folder(csv_bytes: bytes, spec_text: str) -> tuple[tempfile.TemporaryDirectory, Path]:
    tmp = tempfile.TemporaryDirectory(prefix="trialreport-prop-")
    root = Path(tmp.name)
    (root / "data").mkdir()
    (root / "spec").mkdir()
    (root / "data" / "dm.csv").write_bytes(csv_bytes)
    (root / "spec" / "dm.yml").write_text(spec_text, encoding="utf-8", errors="surrogatepass")
    return tmp, root


@SETTINGS
@given(head=header, body=rows, newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_csv_text(head, body, newline) -> None:
    tmp, root = _folder(_csv_bytes(head, body, newline), SPEC)
    with tmp:
        _run(["--data", str(root / "data"), "--spec", str(root / "spec"),
              "--json", str(root / "r.json")])


@SETTINGS
@given(st.binary(max_size=400))
def test_random_csv_bytes(data) -> None:
    tmp, root = _folder(GOOD_CSV[:40] + data, SPEC)
    with tmp:
        _run(["--data", str(root / "data"), "--spec", str(root / "spec")])


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=True),
              st.sampled_from(["DM", "AGE", "string", "integer", "date", "dm", "AGE >= 1",
                               "__import__('os')", "[", "(", "USUBJID"]), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["name", "label", "type", "required", "codelist", "range",
                                 "check", "id", "description", "columns", "variables",
                                 "dataset", "keys", "missing_values", "rules", "windows",
                                 "pattern", "codelsit", "length", "format"]), inner,
                                max_size=5)),
    max_leaves=12)


@SETTINGS
@given(st.one_of(
    yaml_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    st.text(max_size=200),
    st.tuples(st.integers(0, len(SPEC)), st.text(max_size=12)).map(
        lambda cut: SPEC[:cut[0]] + cut[1] + SPEC[cut[0]:])))
def test_random_specification_yaml(spec_text) -> None:
    tmp, root = _folder(GOOD_CSV, spec_text)
    with tmp:
        _run(["--data", str(root / "data"), "--spec", str(root / "spec")])


argument = st.one_of(
    st.sampled_from(["--data", "--spec", "--json", "--show", "--bogus", "-h", "0", "-3",
                     "x", "", "/", "/dev/null", "{root}/data", "{root}/spec",
                     "{root}/r.json", "{root}/data/dm.csv", "{root}/none/r.json"]),
    st.text(max_size=8))


@SETTINGS
@given(st.lists(argument, max_size=7))
def test_random_arguments(arguments) -> None:
    tmp, root = _folder(GOOD_CSV, SPEC)
    with tmp, contextlib.chdir(root):  # relative paths land in the temporary folder
        _run([a.replace("{root}", str(root)) for a in arguments])
