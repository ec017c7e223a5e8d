"""Geometry benchmark: the full Starlink file against 10,000 users, per time step, on one core.

Measures propagation, serving-beam assignment and eq. (1)-(4) (gain, interference, SINR, capacity)
at 1 and at 60 time steps, then the same work done per object with skyfield on a subset, scaled to
the full size. Prints a table; asserts nothing about time. Run with ``make bench``.
"""

from __future__ import annotations

import os

# One core, as the targets are stated for one core (set before numpy loads OpenBLAS).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from skyfield.api import EarthSatellite, load, wgs84  # noqa: E402

from satellite.beamplan import BeamPlan  # noqa: E402
from satellite.cells import cell_radius_km, hex_grid  # noqa: E402
from satellite.coverage import CoverageModel  # noqa: E402
from satellite.ground import GroundPoints, place_users, visible  # noqa: E402
from satellite.link import off_axis  # noqa: E402
from satellite.orbits import constellation_from_tles, propagate  # noqa: E402
from satellite.presets import get_preset  # noqa: E402
from satellite.tle import TleRecord, read_tle_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TLE = ROOT / "data" / "tle" / "starlink-2022-09.tle"
CENTRE_LAT_DEG, CENTRE_LON_DEG = 45.0, 10.0


T = TypeVar("T")


def timed(function: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """Run once; return (result, seconds)."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def per_object_pairs(
    records: list[TleRecord], users: GroundPoints, plan: BeamPlan, t: Any
) -> float:
    """Seconds to find each user's serving satellite one (satellite, user) pair at a time."""
    satellites = [EarthSatellite(r.line1, r.line2, r.name, t.ts) for r in records]
    places = [wgs84.latlon(la, lo) for la, lo in zip(users.lat_deg, users.lon_deg, strict=True)]
    start = time.perf_counter()
    for place in places:
        best_deg = -90.0
        for satellite in satellites:
            elevation, _, _ = (satellite - place).at(t).altaz()
            if plan.min_elevation_deg <= elevation.degrees > best_deg:
                best_deg = elevation.degrees
    return time.perf_counter() - start


def per_object_links(
    sat_km: NDArray[np.float64], users: GroundPoints, plan: BeamPlan, interferers: int
) -> float:
    """Seconds to evaluate eq. (1)-(4) one user at a time, with ``interferers`` each."""
    xyz = users.position_itrs_km
    start = time.perf_counter()
    for n in range(len(users)):
        signal = float(plan.beam_gain(off_axis(sat_km, xyz[:, n], xyz[:, n])))
        interference = 0.0
        for c in range(interferers):
            other = xyz[:, (n + c + 1) % len(users)]
            interference += float(plan.beam_gain(off_axis(sat_km, xyz[:, n], other)))
        _ = math.log2(1.0 + signal / (interference + plan.noise_power_w))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--step-s", type=float, default=60.0)
    parser.add_argument("--region-radius-km", type=float, default=2_000.0)
    parser.add_argument("--preset", default="starlink-ku")
    parser.add_argument("--beams", type=int, default=48)
    parser.add_argument("--reuse", type=int, default=4)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    ts = load.timescale(builtin=True)
    records, t_parse = timed(read_tle_file, TLE, "STARLINK-*")
    constellation = constellation_from_tles(records)
    preset = get_preset(args.preset)
    plan = BeamPlan(
        preset=preset,
        beams_per_satellite=args.beams,
        reuse=args.reuse,
        min_elevation_deg=preset.min_elevation_deg,
    )
    rng = np.random.default_rng(1)
    users = place_users(
        centre_lat_deg=CENTRE_LAT_DEG,
        centre_lon_deg=CENTRE_LON_DEG,
        radius_km=args.region_radius_km,
        count=args.users,
        rng=rng,
    )
    cells, t_cells = timed(
        hex_grid,
        centre_lat_deg=CENTRE_LAT_DEG,
        centre_lon_deg=CENTRE_LON_DEG,
        region_radius_km=args.region_radius_km,
        cell_radius_km=cell_radius_km(preset.theta_3db_rad, preset.altitude_km),
    )
    model, t_model = timed(CoverageModel, cells=cells, users=users, plan=plan)
    times = ts.utc(2022, 9, 14, 0, 0, np.arange(args.steps) * args.step_s)
    _, t_prop1 = timed(propagate, constellation, times[:1])
    ephemeris, t_prop = timed(propagate, constellation, times)

    position0_km, _, valid0 = ephemeris.at_index(0)
    in_view, t_visible = timed(visible, position0_km[:, valid0], users, plan.min_elevation_deg)
    seeing = int(in_view.any(axis=0).sum())

    tracemalloc.start()
    step_s: list[float] = []
    covered: list[int] = []
    for k in range(args.steps):
        position_km, _, valid = ephemeris.at_index(k)
        snapshot, seconds = timed(model.step, position_km, valid, step_index=k)
        step_s.append(seconds)
        covered.append(int(snapshot.covered.sum()))
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    serving_s = [
        timed(model.serving, *ephemeris.at_index(k)[::2])[1] for k in range(min(args.steps, 10))
    ]

    n_sub_sats, n_sub_users = 60, 40
    subset = [records[i] for i in np.linspace(0, len(records) - 1, n_sub_sats).astype(int)]
    sub_users = GroundPoints.from_arrays(users.lat_deg[:n_sub_users], users.lon_deg[:n_sub_users])
    t_pairs = per_object_pairs(subset, sub_users, plan, times[0])
    interferers = int((model.neighbours >= 0).sum(axis=1).mean())
    t_links = per_object_links(
        ephemeris.at_index(0)[0][:, 0], sub_users, plan, interferers=interferers
    )
    t_loop_scaled = t_pairs * (len(records) * len(users)) / (n_sub_sats * n_sub_users)
    t_loop_scaled += t_links * len(users) / n_sub_users
    step_arr = np.array(step_s)

    size = f"{len(records):,} satellites × {len(users):,} users"
    table = Table(title=f"satedge geometry benchmark ({size}, one core)")
    table.add_column("work")
    table.add_column("figure", justify="right")
    rows = [
        ("parse TLE file", f"{t_parse * 1e3:.0f} ms"),
        (
            "cells in region / users located",
            f"{len(cells):,} / {int((model.user_cell >= 0).sum()):,}",
        ),
        ("build cell grid + coverage model", f"{(t_cells + t_model) * 1e3:.0f} ms"),
        ("propagate + TEME→ITRS, 1 step", f"{t_prop1 * 1e3:.1f} ms"),
        (
            f"propagate + TEME→ITRS, {args.steps} steps",
            f"{t_prop * 1e3:.0f} ms ({len(records) * args.steps / t_prop / 1e6:.2f} M sat-pos/s)",
        ),
        (
            "serving beams per step (prune + elevation + assign)",
            f"{np.median(serving_s) * 1e3:.0f} ms median",
        ),
        ("coverage step (eq. 1-4), first step", f"{step_arr[0] * 1e3:.0f} ms"),
        (
            f"coverage step, {args.steps} steps: median / p95 / max",
            " / ".join(
                f"{v * 1e3:.0f}"
                for v in (np.median(step_arr), np.percentile(step_arr, 95), step_arr.max())
            )
            + " ms",
        ),
        (
            "propagation + coverage per step (60-step run)",
            f"{(t_prop / args.steps + np.median(step_arr)) * 1e3:.0f} ms",
        ),
        (
            f"visibility, all pairs above {plan.min_elevation_deg:g}° (cone-pruned GEMM)",
            f"{t_visible * 1e3:.0f} ms; {seeing:,} users see a satellite",
        ),
        (
            f"users served per step (mean; {plan.beams_per_satellite} beams per satellite)",
            f"{np.mean(covered):,.0f} of {len(users):,}",
        ),
        ("peak traced memory during steps", f"{peak_bytes / 2**20:.0f} MiB"),
        (
            f"per-object skyfield look angles, {n_sub_sats} sats × {n_sub_users} users",
            f"{t_pairs:.2f} s",
        ),
        (
            f"per-object eq. (1)-(4), {n_sub_users} users × {interferers} interferers",
            f"{t_links:.2f} s",
        ),
        ("per-object loop scaled to full size, one step", f"{t_loop_scaled:,.0f} s"),
        ("speed-up of the vectorised step", f"{t_loop_scaled / np.median(step_arr):,.0f}×"),
    ]
    for work, figure in rows:
        table.add_row(work, figure)
    console.print(table)


if __name__ == "__main__":
    main()
