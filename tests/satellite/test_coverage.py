"""The per-step coverage pipeline against hand-built geometries (Li et al. eq. (1)-(4))."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.antenna import to_db
from satellite.beamplan import BeamPlan
from satellite.cells import CellGrid, cell_radius_km, hex_grid
from satellite.coverage import CoverageModel
from satellite.geodesy import itrs_from_geodetic
from satellite.ground import GroundPoints
from satellite.link import free_space_loss
from satellite.losses import atmospheric_loss
from satellite.presets import get_preset

PRESET = get_preset("3gpp-leo600-ka")
ALTITUDE_KM = 600.0


def grid() -> CellGrid:
    return hex_grid(
        centre_lat_deg=10.0,
        centre_lon_deg=20.0,
        region_radius_km=80.0,
        cell_radius_km=cell_radius_km(PRESET.theta_3db_rad, PRESET.altitude_km),
    )


def plan(**changes: object) -> BeamPlan:
    base = BeamPlan(preset=PRESET, beams_per_satellite=64, reuse=1, min_elevation_deg=10.0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def users_at(cells: CellGrid, axial: list[tuple[int, int]]) -> GroundPoints:
    index = cells.index_of([q for q, _ in axial], [r for _, r in axial])
    assert np.all(index >= 0)
    return GroundPoints.from_arrays(cells.lat_deg[index], cells.lon_deg[index])


def above(cells: CellGrid, q: int, r: int) -> np.ndarray:
    """A satellite 600 km straight above the centre of cell (q, r), (3, 1)."""
    i = cells.index_of(q, r)
    return itrs_from_geodetic(cells.lat_deg[i], cells.lon_deg[i], ALTITUDE_KM).reshape(3, 1)


def test_a_lone_user_under_its_satellite_gets_the_hand_computed_link_budget() -> None:
    cells = grid()
    model = CoverageModel(cells=cells, users=users_at(cells, [(0, 0)]), plan=plan())
    snap = model.step(above(cells, 0, 0))
    assert snap.user_satellite.tolist() == [0]
    assert snap.off_axis_deg[0] == pytest.approx(0.0, abs=1e-9)
    assert snap.beam_gain_dbi[0] == pytest.approx(PRESET.satellite_max_gain_dbi, abs=1e-9)
    assert snap.elevation_deg[0] == pytest.approx(90.0, abs=0.01)
    assert snap.slant_range_km[0] == pytest.approx(ALTITUDE_KM, abs=1e-6)
    assert snap.interference_w[0] == 0.0
    expected_w = (
        PRESET.terminal_tx_power_w
        * PRESET.terminal_max_gain
        * PRESET.satellite_max_gain
        / (
            free_space_loss(ALTITUDE_KM, PRESET.wavelength_m)
            * atmospheric_loss(90.0, PRESET.atmospheric_zenith_loss_db)
        )
    )
    assert snap.received_power_w[0] == pytest.approx(float(expected_w), rel=1e-9)
    assert snap.sinr[0] == pytest.approx(float(expected_w) / plan().noise_power_w, rel=1e-9)
    assert snap.capacity_bps_per_hz[0] == pytest.approx(np.log2(1.0 + snap.sinr[0]), rel=1e-12)


def test_off_axis_grows_for_a_user_away_from_the_cell_centre() -> None:
    cells = grid()
    i = cells.index_of(0, 0)
    users = GroundPoints.from_arrays(
        [cells.lat_deg[i], cells.lat_deg[i] + 0.03], [cells.lon_deg[i], cells.lon_deg[i]]
    )
    snap = CoverageModel(cells=cells, users=users, plan=plan()).step(above(cells, 0, 0))
    assert snap.user_cell[0] == snap.user_cell[1]
    assert snap.off_axis_deg[1] > 0.1
    assert snap.beam_gain_dbi[1] < snap.beam_gain_dbi[0]


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0.01, max_value=100.0), st.floats(min_value=1.01, max_value=100.0))
def test_sinr_falls_when_an_interferers_power_rises(power_w: float, factor: float) -> None:
    cells = grid()
    model = CoverageModel(cells=cells, users=users_at(cells, [(0, 0), (2, 0)]), plan=plan())
    sat = above(cells, 0, 0)
    quiet = model.step(sat, tx_power_w=np.array([1.0, power_w]))
    loud = model.step(sat, tx_power_w=np.array([1.0, power_w * factor]))
    assert loud.interference_w[0] == pytest.approx(quiet.interference_w[0] * factor, rel=1e-9)
    assert loud.sinr[0] < quiet.sinr[0]
    assert loud.received_power_w[0] == quiet.received_power_w[0]


def test_reuse_separates_cells_that_a_single_frequency_would_let_interfere() -> None:
    cells = grid()
    users = users_at(cells, [(0, 0), (1, 0)])
    sat = above(cells, 0, 0)
    same = CoverageModel(cells=cells, users=users, plan=plan(reuse=1)).step(sat)
    split = CoverageModel(cells=cells, users=users, plan=plan(reuse=3)).step(sat)
    assert same.interference_w[0] > 0.0
    assert split.interference_w[0] == 0.0
    assert split.sinr[0] > same.sinr[0]


def test_orthogonal_polarization_scales_interference_by_the_xpd() -> None:
    cells = grid()
    # Reuse 4: colours (q mod 2) + 2 (r mod 2); (0,0) and (1,0) share sub-band 0, polarisations 0/1.
    users = users_at(cells, [(0, 0), (1, 0)])
    sat = above(cells, 0, 0)
    fr4 = CoverageModel(cells=cells, users=users, plan=plan(reuse=4)).step(sat)
    fr1 = CoverageModel(cells=cells, users=users, plan=plan(reuse=1)).step(sat)
    ratio = fr4.interference_w[0] / fr1.interference_w[0]
    assert ratio == pytest.approx(10 ** (-PRESET.xpd_db / 10), rel=1e-9)


def test_paper_literal_uses_the_interferers_own_beam_gain() -> None:
    cells = grid()
    users = users_at(cells, [(0, 0), (2, 0)])
    sat = above(cells, 0, 0)
    physical = CoverageModel(cells=cells, users=users, plan=plan()).step(sat)
    literal = CoverageModel(cells=cells, users=users, plan=plan(paper_literal=True)).step(sat)
    # The interferer sits at its own cell's centre: G_U(θ^U_c) = G_max, far above G_M(θ_{M,c}).
    assert literal.interference_w[0] > 100.0 * physical.interference_w[0]
    assert literal.received_power_w[0] == physical.received_power_w[0]


def test_a_satellite_serves_at_most_its_number_of_beams() -> None:
    cells = grid()
    users = users_at(cells, [(0, 0), (1, 0), (0, 1), (-1, 0)])
    snap = CoverageModel(cells=cells, users=users, plan=plan(beams_per_satellite=2)).step(
        above(cells, 0, 0)
    )
    assert int(snap.covered.sum()) == 2
    assert sorted(snap.user_beam[snap.covered].tolist()) == [0, 1]
    uncovered = ~snap.covered
    assert np.all(snap.user_satellite[uncovered] == -1)
    assert np.all(np.isnan(snap.sinr[uncovered]))
    assert np.all(np.isnan(snap.capacity_bps_per_hz[uncovered]))
    assert snap.user_cell[0] == cells.index_of(0, 0)
    assert snap.covered[0], "the cell right under the satellite has the highest elevation"


def test_invalid_or_failed_satellites_never_serve() -> None:
    cells = grid()
    users = users_at(cells, [(0, 0)])
    sats = np.concatenate([above(cells, 0, 0), np.full((3, 1), np.nan)], axis=1)
    model = CoverageModel(cells=cells, users=users, plan=plan())
    assert model.step(sats).user_satellite.tolist() == [0]
    assert model.step(sats, np.array([False, True])).user_satellite.tolist() == [-1]


def test_a_satellite_below_the_minimum_elevation_does_not_serve() -> None:
    cells = grid()
    users = users_at(cells, [(0, 0)])
    i = cells.index_of(0, 0)
    far = itrs_from_geodetic(cells.lat_deg[i], cells.lon_deg[i] + 25.0, ALTITUDE_KM).reshape(3, 1)
    snap = CoverageModel(cells=cells, users=users, plan=plan()).step(far)
    assert snap.user_satellite.tolist() == [-1]


def test_round_robin_schedules_each_user_of_a_cell_in_turn() -> None:
    cells = grid()
    i = cells.index_of(0, 0)
    users = GroundPoints.from_arrays(
        [cells.lat_deg[i], cells.lat_deg[i] + 0.01, cells.lat_deg[i] - 0.01],
        [cells.lon_deg[i]] * 3,
    )
    model = CoverageModel(cells=cells, users=users, plan=plan())
    order = [int(model.scheduled_users(k)[i]) for k in range(6)]
    assert order == [0, 1, 2, 0, 1, 2]
    assert np.all(np.delete(model.scheduled_users(0), i) == -1)


def test_shadowing_needs_a_generator_and_is_reproducible() -> None:
    cells = grid()
    model = CoverageModel(
        cells=cells, users=users_at(cells, [(0, 0)]), plan=plan(shadowing_std_db=4.0)
    )
    sat = above(cells, 0, 0)
    with pytest.raises(ValueError, match="rng"):
        model.step(sat)
    first = model.step(sat, rng=np.random.default_rng(3)).sinr
    again = model.step(sat, rng=np.random.default_rng(3)).sinr
    assert np.array_equal(first, again)
    clear = CoverageModel(cells=cells, users=users_at(cells, [(0, 0)]), plan=plan()).step(sat)
    assert float(to_db(first[0] / clear.sinr[0])) != pytest.approx(0.0, abs=1e-6)
