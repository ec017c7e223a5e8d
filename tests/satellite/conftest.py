"""Shared fixtures of the satellite tests: the real Starlink file and hand-made TLE files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from satellite.tle import TleRecord, read_tle_file, tle_checksum

STARLINK = Path(__file__).parents[2] / "data" / "tle" / "starlink-2022-09.tle"


def first_records(count: int) -> list[tuple[str, str, str]]:
    """The first ``count`` records of the Starlink file: (name, line 1, line 2), name stripped."""
    lines = STARLINK.read_text(encoding="ascii").splitlines()[: 3 * count]
    return [(lines[i].strip(), lines[i + 1], lines[i + 2]) for i in range(0, len(lines), 3)]


def with_checksum(line: str) -> str:
    """The line with its last column replaced by its correct TLE checksum."""
    return line[:68] + str(tle_checksum(line))


@pytest.fixture(scope="session")
def starlink() -> list[TleRecord]:
    return read_tle_file(STARLINK, "STARLINK-*")


@pytest.fixture
def write_tle(tmp_path: Path) -> Callable[..., Path]:
    """Write the given lines as a TLE file in tmp_path and return its path."""

    def write(*lines: str) -> Path:
        path = tmp_path / "bad.tle"
        path.write_text("\n".join(lines) + "\n")
        return path

    return write


@pytest.fixture
def decaying_tle(write_tle: Callable[..., Path]) -> Path:
    """The first Starlink record with B* = 0.5 (real: 3.5e-3), decayed within a day.

    The second record follows unchanged.
    """
    (_, line1, line2), second = first_records(2)
    doomed = with_checksum(line1[:53] + " 50000+0" + line1[61:])
    return write_tle("DOOMED", doomed, line2, *second)
