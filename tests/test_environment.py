"""requirements.lock, environment.yml and pyproject.toml agree; the README opens with the two
commands."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def test_lock_pins_exact_versions() -> None:
    lines = [x for x in (ROOT / "requirements.lock").read_text().splitlines()
             if x.strip() and not x.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", x) for x in lines)


def test_environment_yml_pins_the_same_packages_plus_quarto() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "quarto" in conda and any(d.startswith("python") for d in conda)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {_norm(p.split("==")[0]): p.split("==")[1] for p in pip} == _lock()


def test_every_declared_dependency_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    locked = _lock()
    for requirement in declared:
        name = _norm(re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0])
        assert name in locked, f"{name} is declared in pyproject.toml but not in requirements.lock"


def test_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```")[1]
    assert [x.strip() for x in first_block.strip().splitlines()[1:]] == ["make report",
                                                                        "make test"]
