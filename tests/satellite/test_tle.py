"""TLE files: counts, the name filter, and malformed input named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.tle import TleFormatError, TleRecord, read_tle_file, tle_checksum

TLE_DIR = Path(__file__).parents[2] / "data" / "tle"
STARLINK = TLE_DIR / "starlink-2022-09.tle"
ONEWEB = TLE_DIR / "oneweb-2022-09.tle"

NAME = "STARLINK-24"
LINE1 = "1 44238U 19029D   22257.46316094  .00217935  00000+0  35067-2 0  9992"
LINE2 = "2 44238  53.0028  47.8601 0007663 290.4472  69.5712 15.51686006181960"
NAME_B = "STARLINK-71"
LINE1_B = "1 44252U 19029T   22257.66652686  .00210967  00000+0  31977-2 0  9994"
LINE2_B = "2 44252  52.9931  41.1318 0006495 306.7007  53.3405 15.53381077183735"


@pytest.fixture(scope="module")
def starlink() -> list[TleRecord]:
    return read_tle_file(STARLINK, "STARLINK-*")


def _with_checksum(line: str) -> str:
    return line[:68] + str(tle_checksum(line))


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "bad.tle"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- reading ----------------------------------------------------------------------------------


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


def test_blank_lines_are_ignored_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = _write(tmp_path, "", NAME + "   ", LINE1, "", LINE2, "", "", NAME_B, LINE1_B, LINE2_B)
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
            (NAME, LINE1, _with_checksum(LINE2[:2] + "44239" + LINE2[7:])),
            3,
            "satellite number",
            id="satnum-mismatch",
        ),
        pytest.param((NAME, LINE1[:60], LINE2), 2, "too short", id="short-line"),
        pytest.param(
            (NAME, LINE1, _with_checksum(LINE2[:52] + "15.5x686006" + LINE2[63:])),
            3,
            "mean motion",
            id="not-a-number",
        ),
        pytest.param(
            (NAME, _with_checksum(LINE1[:23] + "," + LINE1[24:]), LINE2),
            2,
            "column 24",
            id="layout",
        ),
    ],
)
def test_malformed_files_name_the_file_and_line(
    tmp_path: Path, lines: tuple[str, ...], bad_line: int, reason_part: str
) -> None:
    path = _write(tmp_path, *lines)
    with pytest.raises(TleFormatError) as info:
        read_tle_file(path)
    err = info.value
    assert err.path == str(path)
    assert err.line_number == bad_line
    assert reason_part in err.reason
    assert str(err) == f"{path}:{bad_line}: {err.reason}"
    assert isinstance(err, ValueError)


def test_filtered_out_records_are_not_checked_but_structure_is(tmp_path: Path) -> None:
    odd_debris = ("FALCON 9 DEB", LINE1_B[:-1] + "0", LINE2_B)  # bad checksum
    path = _write(tmp_path, NAME, LINE1, LINE2, *odd_debris)
    assert [r.name for r in read_tle_file(path, "STARLINK-*")] == [NAME]
    with pytest.raises(TleFormatError, match="checksum"):
        read_tle_file(path)
    cut = _write(tmp_path, NAME, LINE1, LINE2, "FALCON 9 DEB", LINE1_B)
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
