"""TLE files: counts, the name filter, and malformed input named by file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from satellite.tle import TleFormatError, TleRecord, read_tle_file, tle_checksum

TLE_DIR = Path(__file__).parents[2] / "data" / "tle"
STARLINK = TLE_DIR / "starlink-2022-09.tle"
ONEWEB = TLE_DIR / "oneweb-2022-09.tle"

_LINES = STARLINK.read_text(encoding="ascii").splitlines()
NAME, LINE1, LINE2 = _LINES[0].strip(), _LINES[1], _LINES[2]  # STARLINK-24
NAME_B, LINE1_B, LINE2_B = _LINES[3].strip(), _LINES[4], _LINES[5]  # STARLINK-71


def with_checksum(line: str) -> str:
    return line[:68] + str(tle_checksum(line))


def test_record_counts_and_the_name_filter() -> None:
    assert len(read_tle_file(STARLINK, "STARLINK-*")) == 2990
    everything = read_tle_file(STARLINK)
    # The file holds 2,990 STARLINK-*, 32 FALCON 9 DEB and one SHERPA-LTC2.
    assert len(everything) == 3023
    assert sum(r.name == "FALCON 9 DEB" for r in everything) == 32
    assert [r.name for r in everything if not r.name.startswith(("STARLINK-", "FALCON"))] == [
        "SHERPA-LTC2"
    ]
    assert len(read_tle_file(ONEWEB)) == 426
    assert read_tle_file(STARLINK, "starlink-*") == []  # case-sensitive


def test_records_keep_stripped_names_and_name_line_numbers(starlink: list[TleRecord]) -> None:
    assert starlink[0] == TleRecord(NAME, LINE1, LINE2, 1)
    assert starlink[1] == TleRecord(NAME_B, LINE1_B, LINE2_B, 4)


def test_blank_lines_are_ignored_and_line_numbers_stay_true(
    write_tle: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_tle("", NAME + "   ", LINE1, "", LINE2, "", "", NAME_B, LINE1_B, LINE2_B)
    records = read_tle_file(str(path))
    assert [(r.name, r.line_number) for r in records] == [(NAME, 2), (NAME_B, 8)]
    crlf = tmp_path / "crlf.tle"
    crlf.write_bytes(f"{NAME}  \r\n{LINE1}\r\n{LINE2}\r\n".encode())
    assert read_tle_file(crlf) == [TleRecord(NAME, LINE1, LINE2, 1)]


@pytest.mark.parametrize(
    ("lines", "bad_line", "reason_part"),
    [
        pytest.param(
            (NAME, LINE1, LINE2, NAME_B, LINE1_B, LINE2_B[:-1] + "0"),
            6,
            "checksum mismatch",
            id="checksum",
        ),
        pytest.param(
            (NAME, LINE1, LINE2, NAME_B, "3" + LINE1_B[1:], LINE2_B),
            5,
            "starting with '1 '",
            id="line1-prefix",
        ),
        pytest.param((NAME, LINE2, LINE1), 2, "starting with '1 '", id="lines-swapped"),
        pytest.param((NAME, LINE1, LINE2, NAME_B, LINE1_B), 4, "cut short", id="truncated-record"),
        pytest.param(
            (NAME, LINE1, with_checksum(LINE2[:2] + "44239" + LINE2[7:])),
            3,
            "satellite number",
            id="satnum-mismatch",
        ),
        pytest.param((NAME, LINE1[:60], LINE2), 2, "too short", id="short-line"),
        pytest.param(
            (NAME, LINE1, with_checksum(LINE2[:52] + "15.5x686006" + LINE2[63:])),
            3,
            "mean motion",
            id="not-a-number",
        ),
        pytest.param(
            (NAME, with_checksum(LINE1[:23] + "," + LINE1[24:]), LINE2),
            2,
            "column 24",
            id="layout",
        ),
    ],
)
def test_malformed_files_name_the_file_and_line(
    write_tle: Callable[..., Path], lines: tuple[str, ...], bad_line: int, reason_part: str
) -> None:
    path = write_tle(*lines)
    with pytest.raises(TleFormatError) as info:
        read_tle_file(path)
    err = info.value
    assert err.path == str(path)
    assert err.line_number == bad_line
    assert reason_part in err.reason
    assert str(err) == f"{path}:{bad_line}: {err.reason}"
    assert isinstance(err, ValueError)


def test_filtered_out_records_are_not_checked_but_structure_is(
    write_tle: Callable[..., Path],
) -> None:
    odd_debris = ("FALCON 9 DEB", LINE1_B[:-1] + "0", LINE2_B)  # bad checksum
    path = write_tle(NAME, LINE1, LINE2, *odd_debris)
    assert [r.name for r in read_tle_file(path, "STARLINK-*")] == [NAME]
    with pytest.raises(TleFormatError, match="checksum"):
        read_tle_file(path)
    cut = write_tle(NAME, LINE1, LINE2, "FALCON 9 DEB", LINE1_B)
    with pytest.raises(TleFormatError, match="cut short") as info:
        read_tle_file(cut, "STARLINK-*")
    assert info.value.line_number == 4


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_tle_file(tmp_path / "nope.tle")


def test_checksum_counts_digits_and_minus_signs() -> None:
    assert tle_checksum(LINE1) == 2
    assert tle_checksum("1 -" + "0" * 65 + "?") == 2
    assert tle_checksum("1 " + "9" * 66 + "5") == (9 * 66 + 1) % 10  # column 69 is not summed


# --- constellation ----------------------------------------------------------------------------
