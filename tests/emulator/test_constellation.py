"""``python -m emulator constellation``: end to end on real TLEs, and its errors."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from emulator.plan import Plan
from emulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
TLE = ROOT / "data" / "tle" / "starlink-2022-09.tle"

SMALL = f"""
name = "small"
seed = 11

[constellation]
tle = "{TLE}"
filter = "STARLINK-*"

[region]
centre_lat_deg = 48.5
centre_lon_deg = 11.0
radius_km = 60.0

[users]
count = 40

[beams]
preset = "starlink-ku"
per_satellite = 16
reuse = 4

[time]
start = 2022-09-14T00:00:00Z
duration_s = 60.0
step_s = 20.0
"""


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "emulator", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def small_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    work = tmp_path_factory.mktemp("work")
    scenario = work / "small.toml"
    scenario.write_text(SMALL, encoding="utf-8")
    result = run_cli("constellation", scenario, cwd=work)
    return work, result


def test_it_writes_a_run_directory_and_prints_its_path_last(
    small_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, result = small_run
    assert result.returncode == 0, result.stderr
    run_dir = work / result.stdout.strip().splitlines()[-1]
    assert run_dir.parent == work / "runs"
    assert run_dir.name.startswith("small-") and run_dir.name.endswith("Z")
    for name in ("scenario.toml", "coverage.csv", "summary.json"):
        assert (run_dir / name).stat().st_size > 0
    for name in ("coverage.png", "sinr_cdf.png"):
        assert (run_dir / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "coverage summary" in result.stderr


def test_coverage_csv_has_units_and_one_row_per_step_and_user(
    small_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, result = small_run
    run_dir = work / result.stdout.strip().splitlines()[-1]
    with (run_dir / "coverage.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, units, data = rows[0], rows[1], rows[2:]
    assert header[:5] == ["time_utc", "user", "user_lat_deg", "user_lon_deg", "satellite"]
    assert units[header.index("sinr_db")] == "dB"
    assert units[header.index("capacity_bps_per_hz")] == "bit/s/Hz"
    assert len(data) == 4 * 40  # steps at 0, 20, 40, 60 s
    assert data[0][0] == "2022-09-14T00:00:00Z" and data[-1][0] == "2022-09-14T00:01:00Z"
    covered = [row for row in data if row[header.index("satellite")]]
    assert len(covered) >= 0.9 * len(data), "Starlink covers Bavaria at 48.5°N"
    assert all(row[header.index("satellite")].startswith("STARLINK-") for row in covered)
    elevation = [float(row[header.index("elevation_deg")]) for row in covered]
    assert min(elevation) >= 25.0  # the starlink-ku preset's minimum elevation
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["satellites"] == 2990
    assert summary["steps"] == 4 and summary["users"] == 40
    assert summary["sinr_db_p5"] <= summary["sinr_db_p50"] <= summary["sinr_db_p95"]
    # R_c = h·tan(θ_3dB) with h the fleet's median altitude (≈ 550 km) and θ_3dB = 1.5°.
    assert summary["cell_radius_km"] == pytest.approx(550.0 * math.tan(math.radians(1.5)), rel=0.03)


def test_a_scenario_can_set_the_cell_radius(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL.replace("reuse = 4", "reuse = 4\ncell_radius_km = 20.0"), "utf-8")
    plan = Plan.from_scenario(load_scenario(scenario))
    assert plan.cells.cell_radius_km == 20.0


def test_the_same_scenario_gives_the_same_coverage(
    small_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, first = small_run
    again = run_cli("constellation", work / "small.toml", "--out", work / "again", cwd=work)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == str(work / "again")
    first_dir = work / first.stdout.strip().splitlines()[-1]
    assert (work / "again" / "coverage.csv").read_bytes() == (
        first_dir / "coverage.csv"
    ).read_bytes()


def test_a_bad_scenario_is_reported_by_file_line_and_field(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(SMALL.replace("reuse = 4", "reuse = 5"), encoding="utf-8")
    result = run_cli("constellation", scenario, cwd=tmp_path)
    assert result.returncode == 2
    line = SMALL.splitlines().index("reuse = 4") + 1
    assert f"bad.toml:{line}: [beams] reuse" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_malformed_tle_line_is_reported_by_file_and_line(tmp_path: Path) -> None:
    lines = TLE.read_text(encoding="utf-8").splitlines()[:9]
    lines[4] = lines[4][:20] + "X" + lines[4][21:]  # corrupt line 1 of the second record
    bad_tle = tmp_path / "bad.tle"
    bad_tle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(SMALL.replace(str(TLE), "bad.tle"), encoding="utf-8")
    result = run_cli("constellation", scenario, cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.tle:5:" in result.stderr
    assert "Traceback" not in result.stderr


def test_out_never_overwrites_a_directory_with_files(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "keep"
    out.mkdir()
    (out / "precious.txt").write_text("data", encoding="utf-8")
    result = run_cli("constellation", scenario, "--out", out, cwd=tmp_path)
    assert result.returncode == 2
    assert "--out" in result.stderr and "not an empty directory" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_a_missing_scenario_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("constellation", tmp_path / "nope.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr
    assert "Traceback" not in result.stderr
