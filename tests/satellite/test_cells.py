"""Hexagonal cells and reuse colourings against brute force and networkx."""

from __future__ import annotations

from itertools import combinations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.cells import (
    REUSE_FACTORS,
    CellGrid,
    cell_radius_km,
    hex_grid,
    reuse_colour,
    subband_and_polarization,
    subband_count,
)
from satellite.geodesy import (
    azimuthal_equidistant,
    azimuthal_equidistant_inverse,
    geodetic_from_itrs,
)

MIN_CO_CHANNEL_SPACINGS = {1: 1.0, 3: np.sqrt(3.0), 4: 2.0, 7: np.sqrt(7.0)}

grids = st.builds(
    lambda lat, lon, rings: hex_grid(
        centre_lat_deg=lat,
        centre_lon_deg=lon,
        region_radius_km=rings * 15.0 * np.sqrt(3.0),
        cell_radius_km=15.0,
    ),
    st.floats(-89.0, 89.0),
    st.floats(-180.0, 180.0),
    st.integers(3, 6),
)


def _small_grid(lat: float = 47.0, lon: float = 8.0, rings: float = 5.0) -> CellGrid:
    return hex_grid(
        centre_lat_deg=lat,
        centre_lon_deg=lon,
        region_radius_km=rings * 10.0 * np.sqrt(3.0),
        cell_radius_km=10.0,
    )


def _pair_distances(grid: CellGrid) -> np.ndarray:
    xy = np.column_stack((grid.x_km, grid.y_km))
    distance: np.ndarray = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
    return distance


def test_reuse_colour_formulas_and_errors() -> None:
    q, r = np.meshgrid(np.arange(-3, 4), np.arange(-3, 4), indexing="ij")
    np.testing.assert_array_equal(reuse_colour(q, r, 1), 0)
    np.testing.assert_array_equal(reuse_colour(q, r, 3), (q - r) % 3)
    np.testing.assert_array_equal(reuse_colour(q, r, 4), q % 2 + 2 * (r % 2))
    np.testing.assert_array_equal(reuse_colour(q, r, 7), (q + 3 * r) % 7)
    for reuse in REUSE_FACTORS:
        colours = reuse_colour(q, r, reuse)
        assert colours.dtype == np.int64
        assert set(np.unique(colours)) == set(range(reuse))
    with pytest.raises(ValueError, match=r"\(1, 3, 4, 7\)"):
        reuse_colour(0, 0, 5)


def test_subbands_and_polarizations() -> None:
    colours = np.arange(4)
    subband, polarization = subband_and_polarization(colours, 4)
    np.testing.assert_array_equal(subband, [0, 0, 1, 1])
    np.testing.assert_array_equal(polarization, [0, 1, 0, 1])
    subband, polarization = subband_and_polarization(np.arange(7), 7)
    np.testing.assert_array_equal(subband, np.arange(7))
    np.testing.assert_array_equal(polarization, 0)
    assert [subband_count(n) for n in REUSE_FACTORS] == [1, 3, 2, 7]
    with pytest.raises(ValueError, match="reuse"):
        subband_count(2)


def test_cell_radius_matches_science_md() -> None:
    # SCIENCE.md §1/§2.2: Ka Set-1 (θ_3dB = 1.7647°/2) at 550 km: −3 dB radius 8.5 km at nadir.
    assert cell_radius_km(np.radians(1.7647 / 2), 550.0) == pytest.approx(8.47, abs=0.01)
    assert cell_radius_km(np.radians(45.0), 600.0) == pytest.approx(600.0)


def test_hex_grid_rejects_bad_arguments() -> None:
    good = {
        "centre_lat_deg": 0.0,
        "centre_lon_deg": 0.0,
        "region_radius_km": 100.0,
        "cell_radius_km": 10.0,
    }
    for name, value in [
        ("centre_lat_deg", 91.0),
        ("centre_lat_deg", np.nan),
        ("centre_lon_deg", np.inf),
        ("region_radius_km", 0.0),
        ("cell_radius_km", -1.0),
        ("region_radius_km", 20000.0),
    ]:
        with pytest.raises(ValueError, match=name):
            hex_grid(**{**good, name: value})


def test_hex_grid_geometry() -> None:
    grid = hex_grid(
        centre_lat_deg=-33.9, centre_lon_deg=18.4, region_radius_km=200.0, cell_radius_km=8.5
    )
    spacing = np.sqrt(3.0) * 8.5
    assert grid.spacing_km == pytest.approx(spacing)
    assert (grid.q[0], grid.r[0]) == (0, 0)
    np.testing.assert_allclose(grid.x_km, spacing * (grid.q + grid.r / 2))
    np.testing.assert_allclose(grid.y_km, spacing * grid.r * np.sqrt(3.0) / 2)
    assert np.all(np.hypot(grid.x_km, grid.y_km) <= 200.0 + 8.5)
    x, y = azimuthal_equidistant(-33.9, 18.4, grid.lat_deg, grid.lon_deg)
    np.testing.assert_allclose(x, grid.x_km, atol=1e-6)
    np.testing.assert_allclose(y, grid.y_km, atol=1e-6)
    lat, _, height = geodetic_from_itrs(grid.position_itrs_km)
    np.testing.assert_allclose(lat, grid.lat_deg, atol=1e-9)
    np.testing.assert_allclose(height, 0.0, atol=1e-9)
    assert len({(int(a), int(b)) for a, b in zip(grid.q, grid.r, strict=True)}) == len(grid)
    # Cell count ≈ region area / hexagon area.
    hexagon_area = 3 * np.sqrt(3.0) / 2 * 8.5**2
    assert len(grid) == pytest.approx(np.pi * (200.0 + 8.5) ** 2 / hexagon_area, rel=0.05)


@settings(max_examples=20, deadline=None)
@given(st.floats(-89.0, 89.0), st.floats(-180.0, 180.0), st.integers(0, 2**32 - 1))
def test_hex_grid_covers_region_and_locates_to_nearest_centre(
    lat0: float, lon0: float, seed: int
) -> None:
    grid = hex_grid(
        centre_lat_deg=lat0, centre_lon_deg=lon0, region_radius_km=150.0, cell_radius_km=12.0
    )
    np.testing.assert_array_equal(grid.locate(grid.lat_deg, grid.lon_deg), np.arange(len(grid)))
    rng = np.random.default_rng(seed)
    rho = 150.0 * np.sqrt(rng.random(3000))
    bearing = rng.uniform(0, 2 * np.pi, 3000)
    x, y = rho * np.sin(bearing), rho * np.cos(bearing)
    lat, lon = azimuthal_equidistant_inverse(lat0, lon0, x, y)
    located = grid.locate(lat, lon)
    assert np.all(located >= 0), "every point of the region lies in a cell"
    distance = np.hypot(x[:, None] - grid.x_km, y[:, None] - grid.y_km)
    two_nearest = np.sort(distance, axis=1)[:, :2]
    clear = two_nearest[:, 1] - two_nearest[:, 0] > 1e-6
    np.testing.assert_array_equal(located[clear], np.argmin(distance, axis=1)[clear])
    assert np.all(distance[np.arange(3000), located] <= 12.0 + 1e-9)


def test_locate_outside_the_grid() -> None:
    grid = _small_grid()
    x = np.array([0.0, 500.0, 0.0, 10000.0])
    y = np.array([0.0, 0.0, -300.0, 0.0])
    lat, lon = azimuthal_equidistant_inverse(47.0, 8.0, x, y)
    np.testing.assert_array_equal(grid.locate(lat, lon), [0, -1, -1, -1])
    assert grid.locate(-47.0, -172.0) == -1  # antipode
    assert grid.locate(np.zeros((2, 3)), np.zeros((2, 3))).shape == (2, 3)


@settings(max_examples=10, deadline=None)
@given(grids)
def test_reuse_colourings_are_proper_with_the_paper_distances(grid: CellGrid) -> None:
    spacing = grid.spacing_km
    distance = _pair_distances(grid)
    off_diagonal = ~np.eye(len(grid), dtype=bool)
    for reuse in REUSE_FACTORS:
        colours = grid.colours(reuse)
        same = (colours[:, None] == colours[None, :]) & off_diagonal
        assert distance[same].min() == pytest.approx(MIN_CO_CHANNEL_SPACINGS[reuse] * spacing)
        if reuse > 1:
            assert not np.any(same & (distance < 1.01 * spacing))
    fr4 = grid.colours(4)
    assert not np.any((fr4[:, None] == fr4[None, :]) & off_diagonal & (distance < 1.99 * spacing))


@settings(max_examples=8, deadline=None)
@given(grids)
def test_networkx_dsatur_agrees_with_the_formulas(grid: CellGrid) -> None:
    spacing = grid.spacing_km
    near = grid.adjacency_graph(1.99 * spacing)
    dsatur = nx.coloring.greedy_color(near, strategy="DSATUR")
    assert len(set(dsatur.values())) == 4
    fr4 = grid.colours(4)
    assert all(fr4[a] != fr4[b] for a, b in near.edges)
    adjacent = grid.adjacency_graph(1.01 * spacing)
    assert len(set(nx.coloring.greedy_color(adjacent, strategy="DSATUR").values())) == 3
    fr3 = grid.colours(3)
    assert all(fr3[a] != fr3[b] for a, b in adjacent.edges)
    degrees = np.array([d for _, d in adjacent.degree])
    assert degrees.max() == 6
    assert degrees[0] == 6  # the centre cell


def test_adjacency_graph_threshold_is_strict() -> None:
    grid = _small_grid(rings=2)
    spacing = grid.spacing_km
    distance = _pair_distances(grid)
    for threshold in (spacing * (1 + 1e-12), np.sqrt(3.0) * spacing * 1.001, 0.5 * spacing):
        graph = grid.adjacency_graph(threshold)
        expected = {
            (a, b) for a, b in combinations(range(len(grid)), 2) if distance[a, b] < threshold
        }
        assert {tuple(sorted(e)) for e in graph.edges} == expected
        assert graph.number_of_nodes() == len(grid)


@pytest.mark.parametrize("reuse", REUSE_FACTORS)
@pytest.mark.parametrize("rings", [0, 1, 2, 4])
def test_co_channel_neighbours_brute_force(reuse: int, rings: int) -> None:
    grid = _small_grid(rings=4.5)
    neighbours = grid.co_channel_neighbours(reuse, rings)
    subband, _ = subband_and_polarization(grid.colours(reuse), reuse)
    dq = grid.q[:, None] - grid.q[None, :]
    dr = grid.r[:, None] - grid.r[None, :]
    hex_distance = np.maximum(np.maximum(abs(dq), abs(dr)), abs(dq + dr))
    expected = (
        (subband[:, None] == subband[None, :]) & (hex_distance >= 1) & (hex_distance <= rings)
    )
    assert neighbours.dtype == np.int64
    assert neighbours.shape[0] == len(grid)
    for m in range(len(grid)):
        row = neighbours[m]
        listed = row[row >= 0]
        assert np.all(row[len(listed) :] == -1), "padding goes at the end"
        assert len(set(listed.tolist())) == len(listed)
        assert set(listed.tolist()) == set(np.flatnonzero(expected[m]).tolist())
    # K is the number of same-sub-band offsets within the rings, e.g. FR4: dr even, not (0, 0).
    interior = int(np.max((neighbours >= 0).sum(axis=1)))
    assert interior == neighbours.shape[1]
    if reuse == 4 and rings == 2:
        assert neighbours.shape[1] == 10  # 4 same-colour + 6 orthogonal-polarisation cells
