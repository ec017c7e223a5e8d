"""Beam assignment: the vectorised rounds equal the sequential greedy, by hand and at scale."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.cells import hex_grid
from satellite.geodesy import itrs_from_geodetic
from satellite.ground import GroundPoints, look_angles
from satellite.serving import assign_serving


def _reference_greedy(
    elevation: np.ndarray,
    min_elevation_deg: float,
    capacity: int,
    valid: np.ndarray | None = None,
    max_candidates: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The sequential greedy over (cell, satellite) pairs, one pair at a time."""
    n_sats, n_cells = elevation.shape
    valid = np.ones(n_sats, bool) if valid is None else valid
    pairs = []
    for c in range(n_cells):
        options = [
            (-elevation[s, c], s)
            for s in range(n_sats)
            if valid[s] and elevation[s, c] >= min_elevation_deg
        ]
        for neg_el, s in sorted(options)[:max_candidates]:
            pairs.append((neg_el, s, c))
    serving = np.full(n_cells, -1)
    load = np.zeros(n_sats, int)
    beams: dict[int, list[int]] = {}
    for _, s, c in sorted(pairs):
        if serving[c] < 0 and load[s] < capacity:
            serving[c] = s
            load[s] += 1
            beams.setdefault(s, []).append(c)
    beam = np.full(n_cells, -1)
    for cells in beams.values():
        beam[cells] = np.arange(len(cells))
    return serving, beam


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 7),
    st.integers(1, 25),
    st.integers(0, 5),
    st.integers(0, 2**32 - 1),
    st.booleans(),
    st.sampled_from([2, 3, 16]),
)
def test_assign_serving_equals_sequential_greedy(
    n_sats: int, n_cells: int, capacity: int, seed: int, coarse: bool, max_candidates: int
) -> None:
    rng = np.random.default_rng(seed)
    if coarse:  # many exact ties
        elevation = rng.integers(0, 10, (n_sats, n_cells)) * 10.0
    else:
        elevation = rng.uniform(-20.0, 90.0, (n_sats, n_cells))
    elevation[rng.random((n_sats, n_cells)) < 0.05] = np.nan
    valid = rng.random(n_sats) < 0.85
    serving, beam = assign_serving(
        elevation,
        min_elevation_deg=20.0,
        beams_per_satellite=capacity,
        valid=valid,
        max_candidates=max_candidates,
    )
    expected_serving, expected_beam = _reference_greedy(
        np.nan_to_num(elevation, nan=-90.0), 20.0, capacity, valid, max_candidates
    )
    np.testing.assert_array_equal(serving, expected_serving)
    np.testing.assert_array_equal(beam, expected_beam)
    assert serving.dtype == beam.dtype == np.int64


def test_assign_serving_hand_computed() -> None:
    elevation = np.array([[80.0, 78.0, 30.0], [60.0, 50.0, 40.0]])
    serving, beam = assign_serving(elevation, min_elevation_deg=20.0, beams_per_satellite=1)
    # (s0,c0) 80 taken; (s0,c1) 78 s0 full; (s1,c1) 50 fallback; (s1,c2) 40 s1 full.
    np.testing.assert_array_equal(serving, [0, 1, -1])
    np.testing.assert_array_equal(beam, [0, 0, -1])
    serving, beam = assign_serving(elevation, min_elevation_deg=20.0, beams_per_satellite=2)
    np.testing.assert_array_equal(serving, [0, 0, 1])
    np.testing.assert_array_equal(beam, [0, 1, 0])
    serving, _ = assign_serving(
        elevation, min_elevation_deg=20.0, beams_per_satellite=2, valid=np.array([False, True])
    )
    np.testing.assert_array_equal(serving, [1, 1, -1])
    serving, beam = assign_serving(elevation, min_elevation_deg=85.0, beams_per_satellite=5)
    np.testing.assert_array_equal(serving, [-1, -1, -1])
    np.testing.assert_array_equal(beam, [-1, -1, -1])


def test_assign_serving_on_a_real_geometry() -> None:
    grid = hex_grid(
        centre_lat_deg=40.0, centre_lon_deg=-100.0, region_radius_km=600.0, cell_radius_km=25.0
    )
    rng = np.random.default_rng(9)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, 3000)))
    sats = itrs_from_geodetic(lat, rng.uniform(-180.0, 180.0, 3000), 550.0)
    cells = GroundPoints.from_arrays(grid.lat_deg, grid.lon_deg)
    elevation = look_angles(sats, cells).elevation_deg
    ample, ample_beam = assign_serving(elevation, min_elevation_deg=25.0, beams_per_satellite=10**6)
    best = np.argmax(elevation, axis=0)
    has_visible = elevation.max(axis=0) >= 25.0
    np.testing.assert_array_equal(ample[has_visible], best[has_visible])
    np.testing.assert_array_equal(ample[~has_visible], -1)
    for s in np.unique(ample[ample >= 0]):
        cells_of_s = np.flatnonzero(ample == s)
        by_elevation = cells_of_s[np.argsort(-elevation[s, cells_of_s], kind="stable")]
        np.testing.assert_array_equal(ample_beam[by_elevation], np.arange(cells_of_s.size))
    serving, beam = assign_serving(elevation, min_elevation_deg=25.0, beams_per_satellite=8)
    load = np.bincount(serving[serving >= 0], minlength=3000)
    assert load.max() == 8
    assert np.all(beam[serving >= 0] < 8)
    assert np.all(elevation[serving[serving >= 0], np.flatnonzero(serving >= 0)] >= 25.0)
    rows = np.flatnonzero(elevation.max(axis=1) >= 25.0)
    expected, expected_beam = _reference_greedy(elevation[rows], 25.0, 8, max_candidates=16)
    np.testing.assert_array_equal(serving, np.where(expected >= 0, rows[expected], -1))
    np.testing.assert_array_equal(beam, expected_beam)


def test_assign_serving_rejects_bad_arguments() -> None:
    elevation = np.zeros((2, 3))
    with pytest.raises(ValueError, match="elevation_deg"):
        assign_serving(np.zeros(3), min_elevation_deg=0.0, beams_per_satellite=1)
    with pytest.raises(ValueError, match="beams_per_satellite"):
        assign_serving(elevation, min_elevation_deg=0.0, beams_per_satellite=-1)
    with pytest.raises(ValueError, match="valid"):
        assign_serving(elevation, min_elevation_deg=0.0, beams_per_satellite=1, valid=[True])
    serving, beam = assign_serving(np.zeros((0, 4)), min_elevation_deg=0.0, beams_per_satellite=1)
    np.testing.assert_array_equal(serving, -1)
    np.testing.assert_array_equal(beam, -1)
