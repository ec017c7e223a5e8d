"""A scenario resolved into everything a run needs, deterministically from its seed.

``Plan.from_scenario`` is the only place where the scenario's seed becomes random draws: one
``numpy.random.SeedSequence(seed)`` spawns a child stream per purpose, so adding a purpose later
never changes the draws of the existing ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from skyfield.api import load
from skyfield.timelib import Time, Timescale

from emulator.scenario import LoadedScenario
from satellite.beamplan import BeamPlan
from satellite.cells import CellGrid, cell_radius_km, hex_grid
from satellite.coverage import CoverageModel
from satellite.ground import GroundPoints, place_users
from satellite.orbits import Constellation, constellation_from_tles, propagate, walker_delta
from satellite.presets import get_preset
from satellite.tle import read_tle_file

# Child streams of SeedSequence(seed).spawn(...), by purpose; append, never reorder.
STREAMS = ("users", "shadowing")


@dataclass(frozen=True)
class Plan:
    """What a coverage run computes with: satellites, times, region cells, users, beam plan."""

    loaded: LoadedScenario
    timescale: Timescale
    constellation: Constellation
    times: Time
    cells: CellGrid
    users: GroundPoints
    beams: BeamPlan
    seeds: dict[str, np.random.SeedSequence]

    @classmethod
    def from_scenario(cls, loaded: LoadedScenario, timescale: Timescale | None = None) -> Plan:
        """Resolve a validated scenario; reads the TLE file it names."""
        ts = timescale or load.timescale(builtin=True)
        scenario = loaded.scenario
        seeds = dict(
            zip(STREAMS, np.random.SeedSequence(scenario.seed).spawn(len(STREAMS)), strict=True)
        )
        if scenario.users.seed is not None:
            seeds["users"] = np.random.SeedSequence(scenario.users.seed)
        preset = get_preset(scenario.beams.preset)
        beams = BeamPlan(
            preset=preset,
            beams_per_satellite=scenario.beams.per_satellite,
            reuse=scenario.beams.reuse,
            pattern=scenario.beams.pattern,
            min_elevation_deg=(
                preset.min_elevation_deg
                if scenario.beams.min_elevation_deg is None
                else scenario.beams.min_elevation_deg
            ),
            interference_rings=scenario.beams.interference_rings,
            activity=scenario.beams.activity,
            paper_literal=scenario.beams.paper_literal,
            shadowing_std_db=scenario.beams.shadowing_std_db,
        )
        constellation = _constellation(loaded, ts)
        times = _times(ts, scenario.time.start, scenario.time.duration_s, scenario.time.step_s)
        region = scenario.region
        radius_km = scenario.beams.cell_radius_km
        if radius_km is None:
            altitude_km = propagate(constellation, times[:1]).median_altitude_km()
            radius_km = cell_radius_km(preset.theta_3db_rad, altitude_km)
        cells = hex_grid(
            centre_lat_deg=region.centre_lat_deg,
            centre_lon_deg=region.centre_lon_deg,
            region_radius_km=region.radius_km,
            cell_radius_km=radius_km,
        )
        users = place_users(
            centre_lat_deg=region.centre_lat_deg,
            centre_lon_deg=region.centre_lon_deg,
            radius_km=region.radius_km,
            count=scenario.users.count,
            rng=np.random.default_rng(seeds["users"]),
            placement=scenario.users.placement,
            clusters=scenario.users.clusters,
            cluster_radius_km=scenario.users.cluster_radius_km,
        )
        return cls(
            loaded=loaded,
            timescale=ts,
            constellation=constellation,
            times=times,
            cells=cells,
            users=users,
            beams=beams,
            seeds=seeds,
        )

    def coverage_model(self) -> CoverageModel:
        """The per-step coverage computation for this plan's region and users."""
        return CoverageModel(cells=self.cells, users=self.users, plan=self.beams)

    def shadowing_rng(self) -> np.random.Generator:
        """The generator of shadowing draws, fresh at the start of a run."""
        return np.random.default_rng(self.seeds["shadowing"])


def _constellation(loaded: LoadedScenario, ts: Timescale) -> Constellation:
    spec = loaded.scenario.constellation
    if spec.walker is not None:
        walker = spec.walker
        return walker_delta(
            inclination_deg=walker.inclination_deg,
            total=walker.total,
            planes=walker.planes,
            phasing=walker.phasing,
            altitude_km=walker.altitude_km,
            epoch=ts.from_datetime(walker.epoch.astimezone(UTC)),
        )
    assert loaded.tle_path is not None
    return constellation_from_tles(read_tle_file(loaded.tle_path, spec.filter))


def _times(ts: Timescale, start: datetime, duration_s: float, step_s: float) -> Time:
    """Time steps from ``start`` every ``step_s`` seconds up to and including ``duration_s``."""
    offsets_s = np.arange(0.0, duration_s + 1e-9 * step_s, step_s)
    start = start.astimezone(UTC)
    return ts.utc(
        start.year,
        start.month,
        start.day,
        start.hour,
        start.minute,
        start.second + start.microsecond / 1e6 + offsets_s,
    )
