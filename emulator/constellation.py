"""The ``constellation`` stage: propagate, lay beams, evaluate eq. (1)-(4), write a run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

from emulator import plots
from emulator.coverage_log import CoverageLog, CoverageStats
from emulator.plan import Plan
from emulator.scenario import scenario_as_toml
from satellite.ground import GroundPoints, visible
from satellite.orbits import Ephemeris, propagate

Progress = Callable[[int, int], None]


def _quiet(done: int, total: int) -> None:
    del done, total


def run_constellation(plan: Plan, run_dir: Path, progress: Progress = _quiet) -> dict[str, object]:
    """Compute the coverage of ``plan`` at every time step and write the run directory.

    Writes ``scenario.toml``, ``coverage.csv``, ``plots/coverage.png``, ``plots/sinr_cdf.png`` and
    ``summary.json`` into ``run_dir``; returns the summary.

    Args:
        plan: The resolved scenario.
        run_dir: An existing, empty directory.
        progress: Called with (steps done, steps in all) as the run goes.
    """
    (run_dir / "scenario.toml").write_text(scenario_as_toml(plan.loaded), encoding="utf-8")
    ephemeris = propagate(plan.constellation, plan.times)
    model = plan.coverage_model()
    region_centre = GroundPoints.from_arrays(
        np.array([plan.loaded.scenario.region.centre_lat_deg]),
        np.array([plan.loaded.scenario.region.centre_lon_deg]),
    )
    stats = CoverageStats(n_users=len(plan.users))
    rng = plan.shadowing_rng()
    times_utc = _iso_times(plan)
    steps = len(times_utc)
    progress(0, steps)
    with CoverageLog(run_dir / "coverage.csv", plan.users, ephemeris.names) as log:
        for k, time_utc in enumerate(times_utc):
            position_km, _, valid = ephemeris.at_index(k)
            snapshot = model.step(position_km, valid, step_index=k, rng=rng)
            log.write(time_utc, snapshot)
            in_view = visible(position_km[:, valid], region_centre, plan.beams.min_elevation_deg)
            stats.add(snapshot, visible_satellites=int(in_view.sum()))
            progress(k + 1, steps)
    summary = _summary(plan, ephemeris, stats)
    _plot(plan, ephemeris, model.cell_colour, stats, run_dir / "plots")
    (run_dir / "summary.json").write_bytes(
        orjson.dumps(
            summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY
        )
    )
    return summary


def _iso_times(plan: Plan) -> list[str]:
    return [
        t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        if t.microsecond
        else t.strftime("%Y-%m-%dT%H:%M:%SZ")
        for t in plan.times.utc_datetime()
    ]


def _summary(plan: Plan, ephemeris: Ephemeris, stats: CoverageStats) -> dict[str, object]:
    failures = ephemeris.failure_reasons()
    return {
        "scenario": plan.loaded.scenario.name,
        "seed": plan.loaded.scenario.seed,
        "satellites": len(plan.constellation),
        "satellites_failed": len(failures),
        "propagation_failures": failures,
        "cells": len(plan.cells),
        "cell_radius_km": round(float(plan.cells.cell_radius_km), 3),
        "beam_bandwidth_hz": float(plan.beams.bandwidth_hz),
        "noise_power_dbw": round(float(10.0 * np.log10(plan.beams.noise_power_w)), 2),
        **stats.summary(),
    }


def _plot(
    plan: Plan, ephemeris: Ephemeris, cell_colour: np.ndarray, stats: CoverageStats, plot_dir: Path
) -> None:
    plot_dir.mkdir(exist_ok=True)
    served = sorted(stats.served_satellites)
    name = plan.loaded.scenario.name
    plots.coverage_map(
        plot_dir / "coverage.png",
        title=name,
        cells=plan.cells,
        cell_colour=cell_colour,
        reuse=plan.beams.reuse,
        users=plan.users,
        user_sinr_db=stats.user_mean_sinr_db(),
        track_itrs_km=ephemeris.position_itrs_km[:, served, :],
        track_names=[ephemeris.names[i] for i in served],
        region_radius_km=plan.loaded.scenario.region.radius_km,
    )
    plots.sinr_cdf(
        plot_dir / "sinr_cdf.png",
        title=f"{name}: SINR over {stats.steps} steps",
        sinr_db=stats.all_sinr_db(),
        snr_db=stats.all_snr_db(),
    )
