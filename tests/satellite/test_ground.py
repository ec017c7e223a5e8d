"""Ground points and look angles against skyfield; the fast visibility forms against brute force."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skyfield.api import load, wgs84
from skyfield.toposlib import ITRSPosition
from skyfield.units import Distance

from satellite.geodesy import (
    EARTH_MEAN_RADIUS_KM,
    azimuthal_equidistant,
    ground_distance_km,
    itrs_from_geodetic,
)
from satellite.ground import (
    PLACEMENTS,
    GroundPoints,
    candidate_satellites,
    look_angles,
    place_users,
    sin_elevation,
    visible,
)


def _random_points(n: int, rng: np.random.Generator, height_km: float = 0.0) -> GroundPoints:
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    return GroundPoints.from_arrays(lat, lon, rng.uniform(0.0, height_km, n))


def _random_satellites(n: int, rng: np.random.Generator) -> np.ndarray:
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    return itrs_from_geodetic(lat, rng.uniform(-180.0, 180.0, n), rng.uniform(300.0, 2000.0, n))


def test_ground_points_fields_and_validation() -> None:
    points = GroundPoints.from_arrays([10.0, -20.0, 89.0], [0.0, 100.0, -170.0], [0.0, 1.0, 2.0])
    assert len(points) == 3
    np.testing.assert_allclose(
        points.position_itrs_km, itrs_from_geodetic(points.lat_deg, points.lon_deg, [0, 1, 2])
    )
    assert points.up.shape == (3, 3)
    np.testing.assert_allclose(np.linalg.norm(points.up, axis=0), 1.0)
    assert not points.position_itrs_km.flags.writeable
    assert not points.lat_deg.flags.writeable
    assert len(GroundPoints.from_arrays([], [])) == 0
    np.testing.assert_array_equal(GroundPoints.from_arrays(1.0, 2.0).height_km, [0.0])
    with pytest.raises(ValueError, match="lat_deg"):
        GroundPoints.from_arrays([91.0], [0.0])
    with pytest.raises(ValueError, match="differ in length"):
        GroundPoints.from_arrays([1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="finite"):
        GroundPoints.from_arrays([np.nan], [0.0])


def test_look_angles_match_skyfield_altaz() -> None:
    rng = np.random.default_rng(11)
    points = _random_points(12, rng, height_km=3.0)
    sats = _random_satellites(40, rng)
    ours = look_angles(sats, points)
    assert ours.elevation_deg.shape == (40, 12)
    t = load.timescale(builtin=True).utc(2022, 9, 12, 3)
    satellite = ITRSPosition(Distance(km=sats))
    for j in range(len(points)):
        observer = wgs84.latlon(
            np.full(40, points.lat_deg[j]),
            np.full(40, points.lon_deg[j]),
            np.full(40, points.height_km[j] * 1000.0),
        )
        alt, az, distance = (satellite - observer).at(t).altaz()
        np.testing.assert_allclose(ours.elevation_deg[:, j], alt.degrees, rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours.slant_range_km[:, j], distance.km, rtol=0, atol=1e-3)
        daz = (ours.azimuth_deg[:, j] - az.degrees + 180.0) % 360.0 - 180.0
        np.testing.assert_allclose(daz[alt.degrees < 89.99], 0.0, atol=1e-6)
    assert np.all((ours.azimuth_deg >= 0.0) & (ours.azimuth_deg < 360.0))


def test_look_angles_closed_forms() -> None:
    points = GroundPoints.from_arrays([0.0], [0.0])
    overhead = itrs_from_geodetic(0.0, 0.0, 550.0)[:, None]
    north = itrs_from_geodetic(10.0, 0.0, 550.0)[:, None]
    east = itrs_from_geodetic(0.0, 10.0, 550.0)[:, None]
    angles = look_angles(np.hstack((overhead, north, east)), points)
    assert angles.elevation_deg[0, 0] == pytest.approx(90.0, abs=1e-9)
    assert angles.slant_range_km[0, 0] == pytest.approx(550.0, abs=1e-9)
    assert angles.azimuth_deg[1, 0] == pytest.approx(0.0, abs=1e-9)
    assert angles.azimuth_deg[2, 0] == pytest.approx(90.0, abs=1e-9)


def test_look_angles_time_axis_is_last() -> None:
    rng = np.random.default_rng(12)
    points = _random_points(7, rng)
    sats = np.stack([_random_satellites(5, rng) for _ in range(4)], axis=-1)  # (3, 5, 4)
    stacked = look_angles(sats, points)
    assert stacked.elevation_deg.shape == (5, 7, 4)
    for t in range(4):
        single = look_angles(sats[:, :, t], points)
        np.testing.assert_array_equal(stacked.elevation_deg[:, :, t], single.elevation_deg)
        np.testing.assert_array_equal(stacked.slant_range_km[:, :, t], single.slant_range_km)
        np.testing.assert_array_equal(stacked.azimuth_deg[:, :, t], single.azimuth_deg)
    with pytest.raises(ValueError, match="sat_itrs_km"):
        look_angles(np.zeros((2, 5)), points)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    min_elevation_deg=st.sampled_from([-10.0, 0.0, 10.0, 25.0, 40.0, 89.0]),
    chunk_size=st.sampled_from([None, 1, 7, 1000]),
)
def test_visible_equals_brute_force_elevation(
    seed: int, min_elevation_deg: float, chunk_size: int | None
) -> None:
    rng = np.random.default_rng(seed)
    points = _random_points(300, rng, height_km=2.0)
    sats = _random_satellites(400, rng)
    sats[:, 3] = np.nan
    fast = visible(sats, points, min_elevation_deg, chunk_size=chunk_size)
    elevation = look_angles(sats, points).elevation_deg
    slow = elevation >= min_elevation_deg
    disagree = fast != slow
    assert not fast[3].any()
    assert np.all(np.abs(elevation[disagree] - min_elevation_deg) < 1e-9)
    if min_elevation_deg <= 40.0:
        assert fast.sum() > 0


def _satellites_at(
    points: GroundPoints, elevation_deg: np.ndarray, azimuth_deg: np.ndarray, range_km: float
) -> np.ndarray:
    """Satellite positions at given look angles from each point (one satellite per point)."""
    lat, lon = np.radians(points.lat_deg), np.radians(points.lon_deg)
    east = np.stack((-np.sin(lon), np.cos(lon), np.zeros_like(lon)))
    north = np.stack((-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)))
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    direction = np.cos(el) * (np.sin(az) * east + np.cos(az) * north) + np.sin(el) * points.up
    positions: np.ndarray = points.position_itrs_km + range_km * direction
    return positions


@pytest.mark.parametrize("min_elevation_deg", [-5.0, 0.0, 25.0, 70.0])
def test_visible_resolves_elevations_1e7_deg_from_the_threshold(min_elevation_deg: float) -> None:
    rng = np.random.default_rng(16)
    points = _random_points(500, rng)
    offset = np.where(np.arange(500) % 2 == 0, 1e-7, -1e-7)
    sats = _satellites_at(
        points, min_elevation_deg + offset, rng.uniform(0.0, 360.0, 500), range_km=2000.0
    )
    seen = np.diagonal(visible(sats, points, min_elevation_deg))
    np.testing.assert_array_equal(seen, offset > 0)
    elevation = np.diagonal(look_angles(sats, points).elevation_deg)
    np.testing.assert_allclose(elevation, min_elevation_deg + offset, rtol=0, atol=1e-9)


def test_visible_on_a_clustered_region_with_culling() -> None:
    rng = np.random.default_rng(13)
    users = place_users(
        centre_lat_deg=-35.0, centre_lon_deg=150.0, radius_km=400.0, count=500, rng=rng
    )
    sats = _random_satellites(3000, rng)
    near = candidate_satellites(sats, users, 25.0)
    elevation = look_angles(sats, users).elevation_deg
    sees = (elevation >= 25.0).any(axis=1)
    assert np.all(near[sees]), "the cone test must keep every satellite that sees a point"
    assert near.sum() < 0.1 * near.size, "the cone test should reject most of the constellation"
    fast = visible(sats, users, 25.0)
    disagree = fast != (elevation >= 25.0)
    assert np.all(np.abs(elevation[disagree] - 25.0) < 1e-9)


def test_candidate_satellites_is_conservative_near_the_edge() -> None:
    # Satellites on the ε = 25° cone of a single point, just inside and just outside.
    points = GroundPoints.from_arrays([45.0], [10.0])
    rng = np.random.default_rng(14)
    sats = _random_satellites(20000, rng)
    elevation = look_angles(sats, points).elevation_deg[:, 0]
    near = candidate_satellites(sats, points, 25.0)
    assert np.all(near[elevation >= 25.0])
    assert not np.any(near[elevation < 20.0])


def test_sin_elevation_matches_look_angles() -> None:
    rng = np.random.default_rng(15)
    points = _random_points(200, rng, height_km=1.0)
    sats = _random_satellites(300, rng)
    expected = np.sin(np.radians(look_angles(sats, points).elevation_deg))
    np.testing.assert_allclose(sin_elevation(sats, points), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sin_elevation(sats, points, chunk_size=3), expected, atol=1e-12)
    with pytest.raises(ValueError, match="chunk_size"):
        sin_elevation(sats, points, chunk_size=0)
    with pytest.raises(ValueError, match="min_elevation_deg"):
        visible(sats, points, 95.0)


def _distance_from_centre(points: GroundPoints, lat0: float, lon0: float) -> np.ndarray:
    return ground_distance_km(lat0, lon0, points.lat_deg, points.lon_deg)


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_place_users_within_region_and_deterministic(placement: str) -> None:
    kwargs: dict[str, Any] = {
        "centre_lat_deg": 51.5,
        "centre_lon_deg": -0.1,
        "radius_km": 250.0,
        "count": 3000,
        "placement": placement,
        "clusters": 4,
        "cluster_radius_km": 60.0,
    }
    first = place_users(rng=np.random.default_rng(7), **kwargs)
    again = place_users(rng=np.random.default_rng(7), **kwargs)
    other = place_users(rng=np.random.default_rng(8), **kwargs)
    assert len(first) == 3000
    np.testing.assert_array_equal(first.lat_deg, again.lat_deg)
    np.testing.assert_array_equal(first.lon_deg, again.lon_deg)
    assert not np.array_equal(first.lat_deg, other.lat_deg)
    assert np.all(_distance_from_centre(first, 51.5, -0.1) <= 250.0 + 1e-6)
    np.testing.assert_array_equal(first.height_km, 0.0)


def test_place_users_uniform_is_area_uniform() -> None:
    radius = 2000.0
    users = place_users(
        centre_lat_deg=10.0,
        centre_lon_deg=20.0,
        radius_km=radius,
        count=20000,
        rng=np.random.default_rng(3),
    )
    distance = _distance_from_centre(users, 10.0, 20.0)
    r = EARTH_MEAN_RADIUS_KM
    expected = (1 - np.cos(radius / np.sqrt(2) / r)) / (1 - np.cos(radius / r))  # cap areas
    sigma = np.sqrt(expected * (1 - expected) / 20000)
    assert np.mean(distance <= radius / np.sqrt(2)) == pytest.approx(expected, abs=4 * sigma)
    x, y = azimuthal_equidistant(10.0, 20.0, users.lat_deg, users.lon_deg)
    assert abs(np.mean(np.arctan2(x, y) > 0) - 0.5) < 4 * np.sqrt(0.25 / 20000)


def test_place_users_clustered_is_concentrated() -> None:
    users = place_users(
        centre_lat_deg=0.0,
        centre_lon_deg=0.0,
        radius_km=500.0,
        count=4000,
        rng=np.random.default_rng(4),
        placement="clustered",
        clusters=3,
        cluster_radius_km=20.0,
    )
    x, y = azimuthal_equidistant(0.0, 0.0, users.lat_deg, users.lon_deg)
    # With σ = 10 km around 3 centres, the users occupy a few small 10 km bins.
    bins = {(int(a // 10), int(b // 10)) for a, b in zip(x, y, strict=True)}
    assert len(bins) < 150


def test_place_users_rejects_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    base: dict[str, Any] = {
        "centre_lat_deg": 0.0,
        "centre_lon_deg": 0.0,
        "radius_km": 100.0,
        "count": 10,
    }
    with pytest.raises(ValueError, match=r"uniform.*clustered"):
        place_users(rng=rng, placement="gaussian", **base)
    with pytest.raises(ValueError, match="radius_km"):
        place_users(rng=rng, **{**base, "radius_km": -1.0})
    with pytest.raises(ValueError, match="count"):
        place_users(rng=rng, **{**base, "count": -1})
    with pytest.raises(ValueError, match="centre_lat_deg"):
        place_users(rng=rng, **{**base, "centre_lat_deg": 100.0})
