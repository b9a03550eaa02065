"""The lock (requirements/*.txt) is in step with pyproject.toml: every requirement of every install
set is pinned there to a version its range admits, every pin carries hashes, and the sets agree
with one another. A dependency added to pyproject.toml without `make lock` fails here, naming it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[1]
LOCK = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Install set -> the extras of pyproject.toml it holds (besides the base dependencies).
SETS = {"base": (), "dev": ("dev",), "spark": ("spark",), "bench": ("bench",)}
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)"
    r"(?:\s*;\s*(?P<marker>.+?))?\s*\\?$"
)


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: str  # "" when the pin holds everywhere
    hashes: int


def read_lock(path: Path) -> list[Pin]:
    """The pins of a file written by `uv pip compile --generate-hashes`."""
    pins: list[Pin] = []
    for line in path.read_text().splitlines():
        if line.startswith("    --hash=sha256:"):
            last = pins[-1]
            pins[-1] = Pin(last.name, last.version, last.marker, last.hashes + 1)
        elif line and not line[0].isspace() and not line.startswith("#"):
            match = PIN.match(line)
            assert match, f"{path.name}: not a pin: {line!r}"
            pins.append(
                Pin(
                    canonicalize_name(match["name"]),
                    Version(match["version"]),
                    match["marker"] or "",
                    0,
                )
            )
    return pins


def wanted(extras: tuple[str, ...]) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def test_the_lock_covers_every_install_set() -> None:
    """One file per install set, and one per extra that pyproject.toml declares."""
    assert set(PYPROJECT["project"]["optional-dependencies"]) == {
        extra for extras in SETS.values() for extra in extras
    }
    for name in (*SETS, "build", "all"):
        assert (LOCK / f"{name}.txt").is_file(), f"requirements/{name}.txt is missing: make lock"


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_requirement_is_pinned_within_its_range(name: str) -> None:
    pins = read_lock(LOCK / f"{name}.txt")
    stale = []
    for requirement in wanted(SETS[name]):
        found = [p for p in pins if p.name == canonicalize_name(requirement.name)]
        if not found or any(p.version not in requirement.specifier for p in found):
            stale.append(f"{requirement} (locked: {[str(p.version) for p in found]})")
    assert stale == [], f"requirements/{name}.txt is out of step with pyproject.toml: make lock"


def test_the_build_backend_is_locked() -> None:
    """`pip install -e .` runs without build isolation, so the backend must be in build.txt."""
    pins = read_lock(LOCK / "build.txt")
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        found = [p for p in pins if p.name == canonicalize_name(requirement.name)]
        assert found and all(p.version in requirement.specifier for p in found), line
    assert any(p.name == "pip" for p in pins)


@pytest.mark.parametrize("name", [*sorted(SETS), "build"])
def test_every_pin_has_hashes_and_agrees_with_the_whole(name: str) -> None:
    """Each set is compiled under all.txt, so installing one over another changes nothing."""
    whole = set(read_lock(LOCK / "all.txt"))
    for pin in read_lock(LOCK / f"{name}.txt"):
        assert pin.hashes > 0, f"{name}.txt: {pin.name} has no hash"
        assert pin in whole, f"{name}.txt: {pin.name}=={pin.version} differs from all.txt"


def test_this_python_gets_one_version_of_each_package() -> None:
    """The markers of a universal lock leave exactly one pin of each package for any one
    interpreter (here, this one)."""
    chosen: dict[str, list[Version]] = {}
    for pin in read_lock(LOCK / "all.txt"):
        if not pin.marker or Marker(pin.marker).evaluate():
            chosen.setdefault(pin.name, []).append(pin.version)
    assert {name: versions for name, versions in chosen.items() if len(versions) > 1} == {}


def test_ibis_pins_are_kept() -> None:
    """Ibis 12 calls sqlglot internals that sqlglot 29 renamed, and refuses pyspark 4.1: the lock
    must hold both below those (pyproject.toml says why)."""
    pins = {p.name: p.version for p in read_lock(LOCK / "all.txt")}
    assert pins["ibis-framework"].major == 12
    assert pins["sqlglot"] < Version("29")
    assert Version("4.0") <= pins["pyspark"] < Version("4.1")
