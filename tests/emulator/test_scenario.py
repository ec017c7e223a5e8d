"""Tests of emulator.scenario: schema, file-and-line errors, TOML writing, shipped scenarios."""

from __future__ import annotations

import importlib
import math
import shutil
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from emulator.scenario import (
    BeamsConfig,
    ScenarioError,
    UsersConfig,
    load_scenario,
    scenario_as_toml,
)
from emulator.scenario.load import _toml_value
from emulator.scenario.locate import SourceMap
from emulator.scenario.schema import Pattern, Placement, Preset, Reuse

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))
STARLINK_TLE = ROOT / "data" / "tle" / "starlink-2022-09.tle"

WALKER = """\
name = "w"
seed = 3

[constellation.walker]
inclination_deg = 53.0
total = 1584
planes = 72
phasing = 1
altitude_km = 550.0
epoch = 2022-09-14T00:00:00Z

[region]
centre_lat_deg = 48.5
centre_lon_deg = 11.0
radius_km = 150.0

[users]
count = 300

[beams]
preset = "starlink-ku"
reuse = 4

[time]
start = 2022-09-14T00:00:00Z
duration_s = 600.0
step_s = 10.0
"""

TLE = WALKER.replace(
    """[constellation.walker]
inclination_deg = 53.0
total = 1584
planes = 72
phasing = 1
altitude_km = 550.0
epoch = 2022-09-14T00:00:00Z
""",
    """[constellation]
tle = "tle/sats.tle"
filter = "STARLINK-*"
""",
)


def write(directory: Path, text: str, name: str = "s.toml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_no(text: str, needle: str, start: int = 1) -> int:
    """1-based number of the first line at or after `start` that contains `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def errors_of(path: Path | str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value).splitlines()


@pytest.fixture
def tle_dir(tmp_path: Path) -> Path:
    """A scenario directory with a small TLE file at tle/sats.tle (10 Starlink satellites)."""
    lines = STARLINK_TLE.read_text().splitlines()[:30]
    write(tmp_path, "\n".join(lines) + "\n", "tle/sats.tle")
    return tmp_path


# -- valid scenarios -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_load(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.scenario.name == path.stem
    if loaded.tle_path is not None:
        assert loaded.tle_path.is_file()


def test_the_three_scenarios_are_shipped() -> None:
    assert {"default", "walker-small", "oneweb"} <= {p.stem for p in SHIPPED}


def test_default_scenario_contents() -> None:
    s = load_scenario(ROOT / "scenarios" / "default.toml").scenario
    assert s.constellation.filter == "STARLINK-*"
    assert (s.users.count, s.beams.preset, s.beams.reuse) == (300, "starlink-ku", 4)
    assert s.time.start == datetime(2022, 9, 14, tzinfo=UTC)
    assert (s.time.duration_s, s.time.step_s) == (600.0, 10.0)


def test_walker_small_is_starlink_shell_one() -> None:
    s = load_scenario(ROOT / "scenarios" / "walker-small.toml").scenario
    w = s.constellation.walker
    assert w is not None
    assert (w.inclination_deg, w.total, w.planes, w.phasing, w.altitude_km) == (
        53.0,
        1584,
        72,
        1,
        550.0,
    )
    assert s.beams.preset == "3gpp-leo600-ka"


def test_defaults_filled_when_users_and_beams_omitted(tmp_path: Path) -> None:
    text = WALKER.replace("[users]\ncount = 300\n", "").replace(
        '[beams]\npreset = "starlink-ku"\nreuse = 4\n', ""
    )
    s = load_scenario(write(tmp_path, text)).scenario
    assert s.users == UsersConfig()
    assert s.beams == BeamsConfig()
    assert s.description == ""
    assert s.region.name == ""
    u, b = s.users, s.beams
    assert (u.count, u.placement, u.clusters, u.cluster_radius_km, u.seed) == (
        300,
        "uniform",
        5,
        30.0,
        None,
    )
    assert (b.preset, b.per_satellite, b.reuse, b.pattern, b.min_elevation_deg) == (
        "starlink-ku",
        48,
        4,
        "bessel",
        None,
    )
    assert (b.interference_rings, b.activity, b.paper_literal, b.shadowing_std_db) == (
        6,
        1.0,
        False,
        0.0,
    )
    assert b.serving == "highest-elevation"


def test_relative_tle_resolved_against_scenario_directory(
    tle_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tle_dir, TLE, "scenarios/s.toml")
    (tle_dir / "scenarios" / "tle").mkdir()
    shutil.move(tle_dir / "tle" / "sats.tle", tle_dir / "scenarios" / "tle" / "sats.tle")
    monkeypatch.chdir(tle_dir)  # a relative scenario path, from the scenario's parent directory
    loaded = load_scenario("scenarios/s.toml")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write(elsewhere, "not a TLE\n", "tle/sats.tle")  # a decoy at the same relative path
    monkeypatch.chdir(elsewhere)
    assert loaded.tle_path == (tle_dir / "scenarios" / "tle" / "sats.tle").resolve()
    assert loaded.resolve("x/y.txt") == (tle_dir / "scenarios" / "x" / "y.txt").resolve()
    assert loaded.resolve("/abs/z") == Path("/abs/z")
    assert load_scenario(tle_dir / "scenarios" / "s.toml").tle_path == loaded.tle_path


def test_datetimes_accept_iso_strings_and_offsets_and_store_utc(tmp_path: Path) -> None:
    text = WALKER.replace("start = 2022-09-14T00:00:00Z", "start = 2022-09-14T02:00:00+02:00")
    text = text.replace("epoch = 2022-09-14T00:00:00Z", 'epoch = "2022-09-14T00:00:00Z"')
    s = load_scenario(write(tmp_path, text)).scenario
    assert s.time.start == datetime(2022, 9, 14, tzinfo=UTC)
    assert s.time.start.utcoffset() is not None and s.time.start.utcoffset() == UTC.utcoffset(None)
    assert s.constellation.walker is not None
    assert s.constellation.walker.epoch == datetime(2022, 9, 14, tzinfo=UTC)


def test_integer_accepted_for_float(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, WALKER.replace("duration_s = 600.0", "duration_s = 600")))
    assert s.scenario.time.duration_s == 600.0
    assert isinstance(s.scenario.time.duration_s, float)


def test_scenario_is_frozen(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, WALKER)).scenario
    with pytest.raises(ValidationError):
        s.seed = 4


# -- round trip ----------------------------------------------------------------------------------


def _round_trip(path: Path, out_dir: Path) -> None:
    loaded = load_scenario(path)
    text = scenario_as_toml(loaded)
    again = load_scenario(write(out_dir, text, "as-run.toml"))
    expected = loaded.scenario
    if loaded.tle_path is not None:
        constellation = expected.constellation.model_copy(update={"tle": loaded.tle_path})
        expected = expected.model_copy(update={"constellation": constellation})
    assert again.scenario == expected
    assert again.tle_path == loaded.tle_path


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_scenario_as_toml_round_trips_shipped(path: Path, tmp_path: Path) -> None:
    _round_trip(path, tmp_path / "elsewhere")


def test_scenario_as_toml_round_trips_awkward_values(tle_dir: Path) -> None:
    text = TLE.replace(
        'name = "w"', 'name = "w.1_x-y"\ndescription = "quote \\" tab\\t é\\nline 2 \\\\"'
    )
    text = text.replace("count = 300", 'count = 7\nplacement = "clustered"\nseed = 0')
    text = text.replace("reuse = 4", "reuse = 7\nmin_elevation_deg = 0.1\nactivity = 1e-5")
    text = text.replace("step_s = 10.0", "step_s = 0.25\n")
    text = text.replace("start = 2022-09-14T00:00:00Z", "start = 2022-09-14T00:00:00.123456Z")
    text = text.replace("centre_lat_deg = 48.5", "name = \"Zürich 'Ost'\"\ncentre_lat_deg = -0.0")
    _round_trip(write(tle_dir, text), tle_dir / "out")
    s = load_scenario(tle_dir / "s.toml").scenario
    assert s.description == 'quote " tab\t é\nline 2 \\'


def test_scenario_as_toml_fills_defaults(tmp_path: Path) -> None:
    text = scenario_as_toml(load_scenario(write(tmp_path, WALKER)))
    for key in (
        "per_satellite = 48",
        'pattern = "bessel"',
        "paper_literal = false",
        "clusters = 5",
    ):
        assert key in text


# -- error messages ------------------------------------------------------------------------------


def test_missing_required_field_points_at_table_header(tmp_path: Path) -> None:
    text = WALKER.replace("radius_km = 150.0\n", "")
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:{line_no(text, '[region]')}: [region] radius_km: field required"
    ]


def test_missing_table_points_at_line_one(tmp_path: Path) -> None:
    text = WALKER.replace(
        "[time]\nstart = 2022-09-14T00:00:00Z\nduration_s = 600.0\nstep_s = 10.0\n", ""
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [f"{path}:1: [time]: table required"]


def test_missing_top_level_field(tmp_path: Path) -> None:
    path = write(tmp_path, WALKER.replace("seed = 3\n", ""))
    assert errors_of(path) == [f"{path}:1: seed: field required"]


def test_wrong_type_points_at_key(tmp_path: Path) -> None:
    text = WALKER.replace("count = 300", 'count = "many"')
    path = write(tmp_path, text)
    line = line_no(text, "count =")
    assert errors_of(path) == [
        f'{path}:{line}: [users] count: Input should be a valid integer (got "many")'
    ]


def test_unknown_key_lists_valid_keys(tmp_path: Path) -> None:
    text = WALKER.replace("reuse = 4", "reuse_factor = 4")
    path = write(tmp_path, text)
    [message] = errors_of(path)
    assert message.startswith(
        f"{path}:{line_no(text, 'reuse_factor')}: [beams] reuse_factor: unknown key"
    )
    listed = message.split("valid keys: ")[1].split(", ")
    assert listed == list(BeamsConfig.model_fields)


def test_unknown_table_and_top_level_key(tmp_path: Path) -> None:
    text = (
        WALKER.replace('name = "w"', 'name = "w"\ncolour = "red"') + '\n[malicious]\nnode = "e1"\n'
    )
    path = write(tmp_path, text)
    messages = errors_of(path)
    assert len(messages) == 2
    assert messages[0].startswith(
        f"{path}:{line_no(text, 'colour')}: colour: unknown key; valid keys: "
    )
    assert messages[1].startswith(
        f"{path}:{line_no(text, '[malicious]')}: [malicious]: unknown table"
    )


def test_table_given_as_value(tmp_path: Path) -> None:
    text = WALKER.replace('name = "w"', 'name = "w"\nusers = 5').replace(
        "[users]\ncount = 300\n", ""
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [f"{path}:2: users: should be a table, [users] (got 5)"]


def test_invalid_choice_lists_valid_values(tmp_path: Path) -> None:
    text = WALKER.replace('preset = "starlink-ku"', 'preset = "ka"').replace(
        "reuse = 4", "reuse = 5"
    )
    path = write(tmp_path, text)
    presets = [f'"{name}"' for name in get_args(Preset)]
    assert errors_of(path) == [
        f"{path}:{line_no(text, 'preset')}: [beams] preset: Input should be "
        f'{", ".join(presets[:-1])} or {presets[-1]} (got "ka")',
        f"{path}:{line_no(text, 'reuse')}: [beams] reuse: Input should be 1, 3, 4 or 7 (got 5)",
    ]


@pytest.mark.parametrize("value", ["true", "4.0", '"4"'])
def test_reuse_is_exactly_an_integer(tmp_path: Path, value: str) -> None:
    text = WALKER.replace("reuse = 4", f"reuse = {value}")
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:{line_no(text, 'reuse')}: [beams] reuse: "
        f"Input should be 1, 3, 4 or 7 (got {value})"
    ]


def test_missing_tle_file_names_line_and_resolved_path(tmp_path: Path) -> None:
    text = TLE.replace("tle/sats.tle", "../nowhere/none.tle")
    path = write(tmp_path / "scen", text)
    missing = (tmp_path / "nowhere" / "none.tle").resolve()
    assert errors_of(path) == [
        f"{path}:{line_no(text, 'tle =')}: [constellation] tle: file not found: {missing}"
    ]


def test_filter_matching_nothing(tle_dir: Path) -> None:
    text = TLE.replace('filter = "STARLINK-*"', 'filter = "ONEWEB-*"')
    path = write(tle_dir, text)
    [message] = errors_of(path)
    assert message.startswith(
        f"{path}:{line_no(text, 'filter')}: [constellation] filter: matches none"
    )


def test_toml_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    text = WALKER.replace("radius_km = 150.0", "radius_km = 150 km")
    path = write(tmp_path, text)
    line = line_no(text, "radius_km")
    [message] = errors_of(path)
    assert message.startswith(f"{path}:{line}: TOML: ")
    assert f"(at line {line}, column" in message


def test_missing_scenario_file(tmp_path: Path) -> None:
    [message] = errors_of(tmp_path / "nope.toml")
    assert message.startswith(f"{tmp_path / 'nope.toml'}: scenario file not found")


def test_directory_and_non_utf8(tmp_path: Path) -> None:
    [message] = errors_of(tmp_path)
    assert "is a directory" in message
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "w"\ndescription = "caf\xe9"\n')
    assert errors_of(path) == [f"{path}:2: not UTF-8 text (invalid byte at column 19)"]


def test_path_shown_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, WALKER.replace("seed = 3", "seed = -1"), "scenarios/x.toml")
    monkeypatch.chdir(tmp_path)
    assert errors_of("scenarios/x.toml") == [
        "scenarios/x.toml:2: seed: Input should be greater than or equal to 0 (got -1)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("start = 2022-09-14T00:00:00Z", "start = 2022-09-14T00:00:00", "start ="),
        ("epoch = 2022-09-14T00:00:00Z", 'epoch = "2022-09-14T00:00:00"', "epoch ="),
    ],
    ids=["toml-local-datetime", "iso-string"],
)
def test_naive_datetime(tmp_path: Path, old: str, new: str, needle: str) -> None:
    text = WALKER.replace(old, new)
    path = write(tmp_path, text)
    table = "[time] start" if needle == "start =" else "[constellation.walker] epoch"
    [message] = errors_of(path)
    assert message.startswith(f"{path}:{line_no(text, needle)}: {table}: naive datetime")


def test_step_longer_than_duration(tmp_path: Path) -> None:
    text = WALKER.replace("step_s = 10.0", "step_s = 900.0")
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:{line_no(text, 'step_s')}: [time] step_s: must be at most duration_s = 600 "
        "(got 900.0)"
    ]


def test_both_tle_and_walker(tle_dir: Path) -> None:
    text = TLE.replace(
        'filter = "STARLINK-*"\n', 'filter = "STARLINK-*"\n\n[constellation.walker]\n'
    )
    text = text.replace(
        "[constellation.walker]\n", WALKER.split("\n[region]")[0].split("seed = 3\n\n")[1]
    )
    path = write(tle_dir, text)
    [message] = errors_of(path)
    assert message.startswith(f"{path}:{line_no(text, '[constellation]')}: [constellation]: ")
    assert "exactly one of `tle` or [constellation.walker], not both" in message


def test_neither_tle_nor_walker(tmp_path: Path) -> None:
    text = TLE.replace('tle = "tle/sats.tle"\nfilter = "STARLINK-*"\n', 'tle = "x.tle"\n').replace(
        'tle = "x.tle"\n', ""
    )
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:{line_no(text, '[constellation]')}: [constellation]: "
        "give exactly one of `tle` or [constellation.walker] (neither given)"
    ]


def test_walker_cross_checks(tmp_path: Path) -> None:
    text = WALKER.replace("planes = 72", "planes = 70")
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:{line_no(text, 'planes')}: [constellation.walker] planes: "
        "must divide total = 1584 (satellites per plane) (got 70)",
    ]
    text = WALKER.replace("phasing = 1", "phasing = 72")
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:{line_no(text, 'phasing')}: [constellation.walker] phasing: "
        "must be in [0, planes - 1] = [0, 71] (got 72)",
    ]


def test_several_problems_all_listed_in_file_order(tmp_path: Path) -> None:
    text = (
        WALKER.replace('name = "w"', 'name = "bad name!"')
        .replace("radius_km = 150.0", "radius_km = -1.0")
        .replace("count = 300", 'count = "many"\nplacement = "grid"')
        .replace("reuse = 4", "reuse_factor = 4")
        .replace("step_s = 10.0", "step_s = nan")
    )
    path = write(tmp_path, text)
    messages = errors_of(path)
    expected = [
        (line_no(text, "name ="), "name: must be non-empty"),
        (
            line_no(text, "radius_km"),
            "[region] radius_km: Input should be greater than 0 (got -1.0)",
        ),
        (line_no(text, "count"), "[users] count: Input should be a valid integer"),
        (line_no(text, "placement"), '[users] placement: Input should be "uniform" or "clustered"'),
        (line_no(text, "reuse_factor"), "[beams] reuse_factor: unknown key"),
        (line_no(text, "step_s"), "[time] step_s: Input should be a finite number (got nan)"),
    ]
    assert len(messages) == len(expected)
    for message, (line, start) in zip(messages, expected, strict=True):
        assert message.startswith(f"{path}:{line}: {start}")


def test_error_is_one_line_per_problem_with_problems_attribute(tmp_path: Path) -> None:
    path = write(
        tmp_path, WALKER.replace("count = 300", "count = 0").replace("reuse = 4", "reuse = 2")
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 2 == len(str(info.value).splitlines())
    assert info.value.path == str(path)
    assert [p.where for p in info.value.problems] == ["[users] count", "[beams] reuse"]


# -- the line scanner ----------------------------------------------------------------------------

TRICKY = '''\
# comment with key = 1 and [fake]
top = """
[not.a.table]
inner = 2
"""
lit = \'\'\'a = 'b' [c]\'\'\'
"quoted key" = 1
dotted.key.path = "x # not a comment"
arr = [
  1,  # comment ] = [
  "two = [2]",
  { in = 1 },
]
inline = { a = 1, b.c = { d = 2 }, "e f" = [1, 2] }

[a.b]   # header comment
k = 'v'

[[x]]
n = 1

[[x]]
n = 2
[x.sub]
m = 3

[ "q.t" . r ]
z = 1
'''


def test_source_map_lines() -> None:
    smap = SourceMap.scan(TRICKY)
    expected = {
        ("top",): 2,
        ("lit",): 6,
        ("quoted key",): 7,
        ("dotted", "key", "path"): 8,
        ("dotted",): 8,
        ("arr",): 9,
        ("arr", 2, "in"): 12,
        ("inline", "a"): 14,
        ("inline", "b", "c", "d"): 14,
        ("inline", "e f"): 14,
        ("a", "b"): 16,
        ("a", "b", "k"): 17,
        ("a",): 16,
        ("x", 0): 19,
        ("x", 0, "n"): 20,
        ("x", 1, "n"): 23,
        ("x", 1, "sub", "m"): 25,
        ("x", 1, "sub"): 24,
        ("q.t", "r", "z"): 28,
        ("q.t", "r"): 27,
        ("a", "b", "missing"): 16,
        ("nowhere", "at", "all"): 1,
        ("not",): 1,
        ("inner",): 1,
        ("fake",): 1,
    }
    assert {loc: smap.line_of(loc) for loc in expected} == expected


def test_source_map_crlf_and_later_explicit_super_table() -> None:
    text = "[t.u]\r\nv = 1\r\n\r\n[t]\r\nw = 2\r\n"
    smap = SourceMap.scan(text)
    assert smap.line_of(("t", "u", "v")) == 2
    assert smap.line_of(("t",)) == 4
    assert smap.line_of(("t", "w")) == 5


# -- valid values owned by floor 1 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("choices", "module_name", "attribute"),
    [
        (Preset, "satellite.presets", "PRESETS"),
        (Reuse, "satellite.cells", "REUSE_FACTORS"),
        (Placement, "satellite.ground", "PLACEMENTS"),
        (Pattern, "satellite.beamplan", "BEAM_PATTERNS"),
    ],
    ids=["preset", "reuse", "placement", "pattern"],
)
def test_valid_values_are_floor_ones(choices: object, module_name: str, attribute: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        pytest.skip(f"{module_name} does not import ({exc}); cannot compare")
    assert list(get_args(choices)) == list(getattr(module, attribute))


def test_min_elevation_defaults_to_the_presets(tmp_path: Path) -> None:
    from satellite.presets import PRESETS

    loaded = load_scenario(write(tmp_path, WALKER))
    beams = loaded.scenario.beams
    assert beams.min_elevation_deg is None
    assert beams.resolved_min_elevation_deg == PRESETS["starlink-ku"].min_elevation_deg
    note = "# min_elevation_deg: not set; the preset's value applies"
    assert f"{note} ({beams.resolved_min_elevation_deg:g})" in scenario_as_toml(loaded)
    explicit = load_scenario(write(tmp_path, WALKER.replace("reuse = 4", "min_elevation_deg = 40")))
    assert explicit.scenario.beams.resolved_min_elevation_deg == 40.0


@given(st.text() | st.floats() | st.integers() | st.booleans())
def test_toml_values_parse_back(value: object) -> None:
    parsed = tomllib.loads(f"x = {_toml_value(value)}")["x"]
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(parsed)
    else:
        assert parsed == value and type(parsed) is type(value)
