"""Three-line TLE files: reading, name filtering and the format checks sgp4 itself skips.

A TLE file holds records of a name line padded with spaces, then element lines 1 and 2 (the NORAD
two-line element format, AIAA 2006-6753 appendix). :func:`read_tle_file` returns the records whose
name matches a glob, and raises :class:`TleFormatError` naming the file and line of anything
malformed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from sgp4.api import Satrec

__all__ = ["TleFormatError", "TleRecord", "read_tle_file", "tle_checksum"]

#: Columns (0-based) the TLE punch-card format fixes to a space or a period (as sgp4.io checks).
_LINE1_LAYOUT = {1: " ", 8: " ", 23: ".", 32: " ", 34: ".", 43: " ", 52: " ", 61: " ", 63: " "}
_LINE2_LAYOUT = {1: " ", 7: " ", 11: ".", 16: " ", 20: ".", 25: " ", 33: " ", 37: ".", 42: " "}
_LINE2_LAYOUT |= {46: ".", 51: " "}
_TLE_LINE_LENGTH = 69


class TleFormatError(ValueError):
    """A TLE file is malformed; names the file and the 1-based line at fault.

    Attributes:
        path: The file read.
        line_number: 1-based line number of the offending line.
        reason: What is wrong.
    """

    def __init__(self, path: str, line_number: int, reason: str) -> None:
        super().__init__(f"{path}:{line_number}: {reason}")
        self.path = path
        self.line_number = line_number
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TleRecord:
    """One three-line TLE record.

    Attributes:
        name: Satellite name, stripped of padding.
        line1: TLE line 1 (trailing whitespace removed).
        line2: TLE line 2 (trailing whitespace removed).
        line_number: 1-based line number of the name line in its file.
    """

    name: str
    line1: str
    line2: str
    line_number: int


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of TLE columns 1-68: the sum of the digits, each '-' counting 1."""
    body = line[: _TLE_LINE_LENGTH - 1]
    return (sum(int(c) for c in body if c in "0123456789") + body.count("-")) % 10


def _check_fields(line: str, which: int) -> str | None:
    """Return why a TLE data line does not parse, or None (the column checks of sgp4.io)."""
    layout = _LINE1_LAYOUT if which == 1 else _LINE2_LAYOUT
    for column, char in layout.items():
        if line[column] != char:
            return f"TLE line {which} column {column + 1} must be {char!r}, found {line[column]!r}"
    if which == 1:
        fields = {
            "epoch": line[18:32],
            "first derivative of mean motion": line[33:43],
            "second derivative of mean motion": f"{line[44]}.{line[45:50]}e{line[50:52]}",
            "B* drag term": f"{line[53]}.{line[54:59]}e{line[59:61]}",
        }
    else:
        fields = {
            "inclination": line[8:16],
            "right ascension of the ascending node": line[17:25],
            "eccentricity": "0." + line[26:33].replace(" ", "0"),
            "argument of perigee": line[34:42],
            "mean anomaly": line[43:51],
            "mean motion": line[52:63],
        }
    for field, text in fields.items():
        try:
            float(text)
        except ValueError:
            return f"TLE line {which} field {field} is not a number: {text.strip()!r}"
    return None


def _check_data_line(path: str, number: int, line: str, which: int) -> None:
    """Raise TleFormatError unless ``line`` is a well-formed TLE line ``which`` (1 or 2)."""
    if len(line) < _TLE_LINE_LENGTH:
        raise TleFormatError(
            path,
            number,
            f"TLE line {which} is too short: {len(line)} characters, expected {_TLE_LINE_LENGTH}",
        )
    stated = line[_TLE_LINE_LENGTH - 1]
    computed = tle_checksum(line)
    if stated != str(computed):
        raise TleFormatError(
            path,
            number,
            f"TLE line {which} checksum mismatch: states {stated!r}, computed {computed}",
        )
    problem = _check_fields(line, which)
    if problem is not None:
        raise TleFormatError(path, number, problem)


def read_tle_file(path: str | os.PathLike[str], name_filter: str | None = None) -> list[TleRecord]:
    """Read a three-line TLE file (name line, line 1, line 2; blank lines ignored).

    Every record must be complete and its data lines must start with "1 " and "2 ". Records whose
    name matches ``name_filter`` are also checked in full: length, modulo-10 checksum, matching
    satellite numbers, the fixed-column layout and numeric fields, and that ``sgp4`` parses them.
    Records filtered out are not checked beyond structure (debris entries may be odd).

    Args:
        path: The TLE file.
        name_filter: fnmatch glob on the stripped name, case-sensitive (e.g. ``"STARLINK-*"``);
            None keeps every record.

    Returns:
        The matching records in file order.

    Raises:
        FileNotFoundError: if the file does not exist.
        TleFormatError: on malformed input, naming the file and 1-based line.
    """
    path_str = os.fspath(path)
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_number = data.count(b"\n", 0, exc.start) + 1
        raise TleFormatError(path_str, line_number, "not UTF-8 text") from exc
    lines = [
        (number, raw.rstrip())
        for number, raw in enumerate(text.split("\n"), start=1)
        if raw.strip()
    ]
    records: list[TleRecord] = []
    for start in range(0, len(lines), 3):
        chunk = lines[start : start + 3]
        if len(chunk) < 3:
            raise TleFormatError(
                path_str,
                chunk[0][0],
                f"record {chunk[0][1].strip()!r} is cut short: the file ends after "
                f"{len(chunk)} of its 3 lines",
            )
        (name_number, name_line), (number1, line1), (number2, line2) = chunk
        for number, line, which in ((number1, line1, 1), (number2, line2, 2)):
            if not line.startswith(f"{which} "):
                raise TleFormatError(
                    path_str,
                    number,
                    f"expected TLE line {which} starting with '{which} ', found {line[:24]!r}",
                )
        name = name_line.strip()
        if name_filter is not None and not fnmatchcase(name, name_filter):
            continue
        _check_data_line(path_str, number1, line1, 1)
        _check_data_line(path_str, number2, line2, 2)
        if line1[2:7] != line2[2:7]:
            raise TleFormatError(
                path_str,
                number2,
                f"satellite number {line2[2:7].strip()!r} of line 2 differs from "
                f"{line1[2:7].strip()!r} of line 1",
            )
        try:
            Satrec.twoline2rv(line1, line2)
        except Exception as exc:  # translated at the boundary: sgp4 raises various types
            raise TleFormatError(path_str, number1, f"sgp4 cannot parse the record: {exc}") from exc
        records.append(TleRecord(name, line1, line2, name_number))
    return records
