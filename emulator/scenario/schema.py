"""The scenario schema: what a scenario TOML file may say, validated with pydantic v2.

A scenario has a top level (`name`, `description`, `seed`) and five tables: `[constellation]`,
`[region]` and `[time]` are required; `[users]` and `[beams]` may be left out, in which case every
one of their fields takes its default. Every model forbids unknown keys (a misspelt key is an error,
not a silently ignored setting), is frozen, and is strict about types (TOML is typed:
`count = "300"` is a mistake, not a number); an integer is accepted wherever a float is expected,
and datetimes may be given either as TOML offset datetimes or as ISO-8601 strings.

Valid values of the enumerated fields are `Literal` types built from the floor-1 code that owns
them: presets from `satellite.presets.PRESETS`, reuse factors from `satellite.cells.REUSE_FACTORS`,
placements from `satellite.ground.PLACEMENTS`, patterns from `satellite.beamplan.BeamPattern`.
Pydantic's errors then list exactly those values.

Reading files, resolving paths and turning validation errors into messages that name file, line,
table and field is `load.py`'s job; this module does no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from satellite.beamplan import BeamPattern
from satellite.cells import REUSE_FACTORS
from satellite.ground import PLACEMENTS
from satellite.presets import PRESETS

__all__ = [
    "BeamsConfig",
    "ConstellationConfig",
    "Pattern",
    "Placement",
    "Preset",
    "RegionConfig",
    "Reuse",
    "Scenario",
    "Serving",
    "TimeConfig",
    "UsersConfig",
    "WalkerConfig",
]

if TYPE_CHECKING:  # the values are known only at run time, from their owners
    Preset = str
    Reuse = int
    Placement = str
else:
    Preset = Literal[tuple(PRESETS)]
    """Link presets: the keys of `satellite.presets.PRESETS`."""
    Reuse = Literal[tuple(REUSE_FACTORS)]
    """Frequency reuse factors on the hexagonal lattice (SCIENCE.md §3.2): `satellite.cells`."""
    Placement = Literal[tuple(PLACEMENTS)]
    """How users are scattered over the region: `satellite.ground.PLACEMENTS`."""

Pattern = BeamPattern
"""Satellite antenna pattern G_M(θ) (SCIENCE.md §2): `satellite.beamplan.BeamPattern`."""

Serving = Literal["highest-elevation"]
"""Rule choosing a user's serving satellite."""

_NAME_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _to_utc(value: datetime) -> datetime:
    """Express a timezone-aware datetime in UTC (naive ones were rejected before this runs)."""
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, Strict(False), AfterValidator(_to_utc)]
"""A timezone-aware datetime (TOML offset datetime or ISO-8601 string), converted to UTC."""

FilePath = Annotated[Path, Strict(False)]
"""A path given as a TOML string."""


class _Table(BaseModel):
    """Base of every scenario model: unknown keys are errors, values immutable, types strict."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class WalkerConfig(_Table):
    """A Walker-delta constellation i:t/p/f at one altitude, as `[constellation.walker]`.

    Every field is required: together they define the constellation.
    """

    inclination_deg: float = Field(ge=0.0, le=180.0, description="Orbit inclination i in degrees.")
    total: int = Field(ge=1, description="Total number of satellites t.")
    planes: int = Field(
        ge=1, description="Number of equally spaced orbital planes p; divides total."
    )
    phasing: int = Field(ge=0, description="Walker phasing factor f, in [0, planes - 1].")
    altitude_km: float = Field(gt=0.0, le=50_000.0, description="Circular orbit altitude in km.")
    epoch: UtcDatetime = Field(
        description="Epoch of the Walker elements (timezone-aware; stored in UTC)."
    )

    @field_validator("planes")
    @classmethod
    def _planes_divide_total(cls, planes: int, info: ValidationInfo) -> int:
        total = info.data.get("total")
        if total is not None and total % planes != 0:
            raise ValueError(f"must divide total = {total} (satellites per plane)")
        return planes

    @field_validator("phasing")
    @classmethod
    def _phasing_below_planes(cls, phasing: int, info: ValidationInfo) -> int:
        planes = info.data.get("planes")
        if planes is not None and phasing >= planes:
            raise ValueError(f"must be in [0, planes - 1] = [0, {planes - 1}]")
        return phasing


class ConstellationConfig(_Table):
    """Where satellite orbits come from: exactly one of a TLE file or `[constellation.walker]`.

    Required table. `tle` is resolved against the scenario file's directory (absolute paths are
    kept); `filter` applies only to TLEs.
    """

    tle: FilePath | None = Field(
        default=None,
        description="Three-line TLE file, relative to the scenario file's directory or absolute.",
    )
    filter: str | None = Field(
        default=None,
        description="fnmatch glob on TLE names (e.g. 'STARLINK-*'); only matching satellites fly.",
    )
    walker: WalkerConfig | None = Field(
        default=None, description="A Walker-delta constellation instead of TLEs."
    )

    @field_validator("tle")
    @classmethod
    def _tle_not_empty(cls, tle: Path | None) -> Path | None:
        if tle is not None and str(tle) in ("", "."):
            raise ValueError("must name a file")
        return tle

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        if self.tle is not None and self.walker is not None:
            raise ValueError("give exactly one of `tle` or [constellation.walker], not both")
        if self.tle is None and self.walker is None:
            raise ValueError("give exactly one of `tle` or [constellation.walker] (neither given)")
        if self.filter is not None and self.tle is None:
            raise ValueError("`filter` applies only to `tle`")
        return self


class RegionConfig(_Table):
    """The service region: a spherical cap around a centre. Required table."""

    name: str = Field(default="", description="Label for reports and plots.")
    centre_lat_deg: float = Field(ge=-90.0, le=90.0, description="Geodetic latitude of the centre.")
    centre_lon_deg: float = Field(
        ge=-180.0, le=180.0, description="Longitude of the centre (east)."
    )
    radius_km: float = Field(
        gt=0.0, le=3000.0, description="Great-circle radius of the region in km."
    )


class UsersConfig(_Table):
    """Terrestrial users placed in the region. Optional table: omitted means all defaults.

    Placement draws from `numpy.random.SeedSequence(seed)` when `seed` is given. When it is omitted,
    the stream derives from the scenario's top-level seed: it is the "users" child of
    `numpy.random.SeedSequence(scenario.seed).spawn(len(STREAMS))` in `emulator.plan`, which owns
    every seed derivation (so setting `seed` here moves the users without moving anything else).
    """

    count: int = Field(default=300, ge=1, le=1_000_000, description="Number of users.")
    placement: Placement = Field(
        default="uniform",
        description="'uniform' over the region, or 'clustered' around `clusters` random centres.",
    )
    clusters: int = Field(
        default=5, ge=1, description="Number of clusters (placement 'clustered')."
    )
    cluster_radius_km: float = Field(
        default=30.0, gt=0.0, description="Radius of each cluster in km (placement 'clustered')."
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        description="Seed of the placement; default: derived from the top-level seed.",
    )


class BeamsConfig(_Table):
    """Multibeam antennas, reuse and the interference model (Li et al. eq. (1)-(4), SCIENCE.md §3).

    Optional table: omitted means all defaults.
    """

    preset: Preset = Field(
        default="starlink-ku",
        description="Carrier, antenna and terminal parameters (SCIENCE.md §2).",
    )
    per_satellite: int = Field(default=48, ge=1, le=4096, description="Beams per satellite.")
    reuse: Reuse = Field(
        default=4, description="Frequency reuse factor (colours on the hex lattice)."
    )
    pattern: Pattern = Field(default="bessel", description="Satellite antenna pattern G_M(θ).")
    min_elevation_deg: float | None = Field(
        default=None,
        ge=0.0,
        lt=90.0,
        description="Minimum elevation ε_min for service; default: the preset's.",
    )
    cell_radius_km: float | None = Field(
        default=None,
        gt=0.0,
        le=2000.0,
        description=(
            "Circumradius R_c of the hexagonal cells; default h·tan(θ_3dB) with h the"
            " constellation's median altitude at the start (−3 dB at the cell edge at nadir)."
        ),
    )
    interference_rings: int = Field(
        default=6, ge=0, le=20, description="Rings of co-channel beams summed in eq. (3)."
    )
    activity: float = Field(
        default=1.0, ge=0.0, le=1.0, description="Activity factor μ of interfering beams."
    )
    paper_literal: bool = Field(
        default=False,
        description="Eq. (3) with the interferer's own beam gain (paper) instead of the victim's.",
    )
    shadowing_std_db: float = Field(
        default=0.0, ge=0.0, description="Log-normal shadowing standard deviation in dB."
    )
    serving: Serving = Field(
        default="highest-elevation", description="How each user picks its serving satellite."
    )

    @field_validator("reuse", mode="before")
    @classmethod
    def _reuse_is_int(cls, reuse: object) -> object:
        # `true == 1` and `4.0 == 4`, so a Literal of ints alone would take them.
        if isinstance(reuse, bool | float):
            expected = ", ".join(map(str, REUSE_FACTORS[:-1])) + f" or {REUSE_FACTORS[-1]}"
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return reuse

    @property
    def resolved_min_elevation_deg(self) -> float:
        """ε_min in degrees: `min_elevation_deg` if set, else the preset's."""
        if self.min_elevation_deg is not None:
            return self.min_elevation_deg
        return PRESETS[self.preset].min_elevation_deg


class TimeConfig(_Table):
    """The emulated time window. Required table."""

    start: UtcDatetime = Field(
        description="Emulated start time (timezone-aware; stored in UTC). Keep it near TLE epochs."
    )
    duration_s: float = Field(gt=0.0, description="Emulated duration in seconds.")
    step_s: float = Field(gt=0.0, description="Geometry time step in seconds; at most duration_s.")

    @field_validator("step_s")
    @classmethod
    def _step_within_duration(cls, step_s: float, info: ValidationInfo) -> float:
        duration_s = info.data.get("duration_s")
        if duration_s is not None and step_s > duration_s:
            raise ValueError(f"must be at most duration_s = {duration_s:g}")
        return step_s


class Scenario(_Table):
    """A whole scenario file.

    `[constellation]`, `[region]` and `[time]` are required; `[users]` and `[beams]` default to
    their models' defaults when omitted. Unknown top-level keys and tables are errors.
    """

    name: str = Field(description="Scenario name, [A-Za-z0-9_.-]+; part of the run directory name.")
    description: str = Field(default="", description="Free text for people.")
    seed: int = Field(ge=0, description="Root seed: every random draw of the run derives from it.")
    constellation: ConstellationConfig = Field(description="Satellite orbits.")
    region: RegionConfig = Field(description="Service region.")
    users: UsersConfig = Field(default_factory=UsersConfig, description="Terrestrial users.")
    beams: BeamsConfig = Field(default_factory=BeamsConfig, description="Beams and interference.")
    time: TimeConfig = Field(description="Emulated time window.")

    @field_validator("name")
    @classmethod
    def _name_chars(cls, name: str) -> str:
        if not name or not set(name) <= _NAME_CHARS:
            raise ValueError("must be non-empty and use only letters, digits, '_', '.' and '-'")
        return name
