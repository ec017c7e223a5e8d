"""The floors of ARCHITECTURE.md: an import only ever points down.

Every module of the five packages is parsed with ``ast``; each import of a project package or of a
library is checked against what the importing package's floor may use.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FLOOR = {"satellite": 1, "ledger": 1, "market": 1, "nodes": 2, "emulator": 3}

# Project packages each package may import besides itself (ARCHITECTURE.md "Layers").
MAY_IMPORT_PROJECT = {
    "satellite": set(),
    "ledger": set(),
    "market": {"ledger"},
    "nodes": {"satellite", "ledger", "market"},
    "emulator": {"satellite", "ledger", "market", "nodes"},
}

# Libraries floor 1 may use; the stdlib is allowed, except what brings I/O, threads or a clock.
MAY_IMPORT_LIBRARY = {
    "satellite": {"numpy", "scipy", "skyfield", "sgp4", "networkx"},
    "ledger": {"coincurve", "Crypto", "orjson"},
    "market": {"numpy", "scipy"},
}
FORBIDDEN_ON_FLOOR_1 = {"asyncio", "socket", "threading", "subprocess", "random", "time", "select"}


@dataclass(frozen=True)
class Violation:
    module: Path
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module.relative_to(ROOT)}:{self.line}: imports {self.imported}: {self.why}"


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Top-level names of every absolute import in a module, with their lines."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations_in(package: str, module: Path, source: str) -> list[Violation]:
    """What the module imports that its package's floor may not."""
    found = []
    for line, name in imported_names(ast.parse(source)):
        top = name.split(".")[0]
        if top == package:
            continue
        if top in FLOOR:
            if top not in MAY_IMPORT_PROJECT[package]:
                why = (
                    f"{package} (floor {FLOOR[package]}) may not import {top} (floor {FLOOR[top]})"
                )
                found.append(Violation(module, line, name, why))
        elif FLOOR[package] == 1:
            if top in sys.stdlib_module_names:
                if top in FORBIDDEN_ON_FLOOR_1:
                    why = "floor 1 is sans-I/O: no sockets, threads, asyncio, clock or global RNG"
                    found.append(Violation(module, line, name, why))
            elif top not in MAY_IMPORT_LIBRARY[package] and top != "__future__":
                allowed = ", ".join(sorted(MAY_IMPORT_LIBRARY[package]))
                why = f"{package} may use only these libraries: {allowed}"
                found.append(Violation(module, line, name, why))
    return found


def project_modules() -> list[tuple[str, Path]]:
    return [(package, path) for package in FLOOR for path in sorted((ROOT / package).rglob("*.py"))]


def test_every_package_has_modules() -> None:
    assert {package for package, _ in project_modules()} == set(FLOOR)


def test_no_import_points_up_a_floor() -> None:
    found = [
        violation
        for package, path in project_modules()
        for violation in violations_in(package, path, path.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(map(str, found))


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("satellite", "import emulator.cli\n", "satellite (floor 1) may not import emulator"),
        ("ledger", "from nodes.edge import EdgeNode\n", "ledger (floor 1) may not import nodes"),
        ("satellite", "from ledger import state\n", "satellite (floor 1) may not import ledger"),
        ("nodes", "import emulator\n", "nodes (floor 2) may not import emulator"),
        ("market", "import asyncio\n", "floor 1 is sans-I/O"),
        ("satellite", "import pandas\n", "satellite may use only these libraries"),
    ],
)
def test_the_checker_catches_an_upward_import(package: str, source: str, expected: str) -> None:
    found = violations_in(package, ROOT / package / "example.py", source)
    assert len(found) == 1
    assert expected in str(found[0])


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("market", "from ledger.state import State\nimport numpy as np\n"),
        ("emulator", "import satellite.orbits\nimport nodes\nimport aiomqtt\n"),
        ("satellite", "from __future__ import annotations\nimport math\nfrom .link import sinr\n"),
    ],
)
def test_the_checker_allows_downward_imports(package: str, source: str) -> None:
    assert violations_in(package, ROOT / package / "example.py", source) == []
