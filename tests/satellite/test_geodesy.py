"""Geodesy against skyfield's WGS84 and closed forms on the mean sphere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skyfield.api import load, wgs84
from skyfield.toposlib import ITRSPosition
from skyfield.units import Distance

from satellite.geodesy import (
    EARTH_MEAN_RADIUS_KM,
    WGS84_A_KM,
    WGS84_F,
    azimuthal_equidistant,
    azimuthal_equidistant_inverse,
    destination,
    geodetic_from_itrs,
    ground_distance_km,
    itrs_from_geodetic,
    up_from_geodetic,
)

MM_KM = 1e-6

latitudes = st.floats(-90.0, 90.0)
longitudes = st.floats(-180.0, 180.0)
mid_latitudes = st.floats(-85.0, 85.0)


def _random_geodetic(n: int, seed: int, h_min: float, h_max: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    return lat, lon, rng.uniform(h_min, h_max, n)


def test_constants_are_wgs84() -> None:
    assert wgs84.radius.km == WGS84_A_KM
    assert pytest.approx(wgs84.inverse_flattening, rel=1e-15) == 1.0 / WGS84_F
    b = WGS84_A_KM * (1 - WGS84_F)
    assert pytest.approx((2 * WGS84_A_KM + b) / 3, abs=1e-3) == EARTH_MEAN_RADIUS_KM


def test_itrs_from_geodetic_matches_skyfield() -> None:
    lat, lon, h = _random_geodetic(2000, 1, -1.0, 2000.0)
    ours = itrs_from_geodetic(lat, lon, h)
    theirs = wgs84.latlon(lat, lon, h * 1000.0).itrs_xyz.km
    assert ours.shape == (3, 2000)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


def test_itrs_from_geodetic_broadcasts_and_closed_forms() -> None:
    assert itrs_from_geodetic(0.0, 0.0).shape == (3,)
    np.testing.assert_allclose(itrs_from_geodetic(0.0, 90.0), [0.0, WGS84_A_KM, 0.0], atol=1e-9)
    polar = WGS84_A_KM * (1 - WGS84_F)
    np.testing.assert_allclose(itrs_from_geodetic(90.0, 17.0, 1.0), [0, 0, polar + 1], atol=1e-9)
    grid = itrs_from_geodetic(np.zeros((2, 3)), np.arange(3.0), 0.5)
    assert grid.shape == (3, 2, 3)


@pytest.mark.parametrize(("h_min", "h_max"), [(-1.0, 10.0), (300.0, 2000.0), (20000.0, 36000.0)])
def test_geodetic_from_itrs_inverts_skyfield_forward(h_min: float, h_max: float) -> None:
    lat, lon, h = _random_geodetic(5000, 2, h_min, h_max)
    xyz = wgs84.latlon(lat, lon, h * 1000.0).itrs_xyz.km
    lat2, lon2, h2 = geodetic_from_itrs(xyz)
    # 1e-9 deg is 0.1 mm on the ground; height within 1 mm.
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-9)
    np.testing.assert_allclose(h2, h, rtol=0, atol=MM_KM)
    away_from_pole = np.abs(lat) < 89.999
    np.testing.assert_allclose(lon2[away_from_pole], lon[away_from_pole], rtol=0, atol=1e-9)


def test_geodetic_from_itrs_agrees_with_skyfield_latlon_of() -> None:
    lat, lon, h = _random_geodetic(5000, 3, 200.0, 2000.0)
    xyz = itrs_from_geodetic(lat, lon, h)
    t = load.timescale(builtin=True).utc(2022, 9, 12)
    position = ITRSPosition(Distance(km=xyz)).at(t)
    sky_lat, sky_lon = wgs84.latlon_of(position)
    sky_h = wgs84.height_of(position)
    lat2, lon2, h2 = geodetic_from_itrs(xyz)
    # skyfield stops after 3 fixed-point steps: its latitude is off by up to ~2.6e-8 deg (3 mm).
    np.testing.assert_allclose(lat2, sky_lat.degrees, rtol=0, atol=5e-8)
    away_from_pole = np.abs(lat) < 89.999
    np.testing.assert_allclose(
        lon2[away_from_pole], sky_lon.degrees[away_from_pole], rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(h2, sky_h.km, rtol=0, atol=MM_KM)


@settings(max_examples=200, deadline=None)
@given(latitudes, longitudes, st.floats(-5.0, 3000.0))
def test_geodetic_round_trip(lat: float, lon: float, h: float) -> None:
    lat2, lon2, h2 = geodetic_from_itrs(itrs_from_geodetic(lat, lon, h))
    assert float(lat2) == pytest.approx(lat, abs=1e-10)
    assert float(h2) == pytest.approx(h, abs=MM_KM)
    if abs(lat) < 89.999:
        dlon = (float(lon2) - lon + 180.0) % 360.0 - 180.0
        assert dlon == pytest.approx(0.0, abs=1e-9)


def test_up_is_the_ellipsoid_normal() -> None:
    lat, lon, _ = _random_geodetic(500, 4, 0.0, 0.0)
    lat = np.clip(lat, -89.0, 89.0)
    up = up_from_geodetic(lat, lon)
    np.testing.assert_allclose(np.linalg.norm(up, axis=0), 1.0, atol=1e-15)
    step = 1e-6
    d_lat = itrs_from_geodetic(lat + step, lon) - itrs_from_geodetic(lat - step, lon)
    d_lon = itrs_from_geodetic(lat, lon + step) - itrs_from_geodetic(lat, lon - step)
    for tangent in (d_lat, d_lon):
        cosine = np.sum(up * tangent, axis=0) / np.linalg.norm(tangent, axis=0)
        np.testing.assert_allclose(cosine, 0.0, atol=1e-7)
    # Moving along the normal changes only the height.
    _, _, h = geodetic_from_itrs(itrs_from_geodetic(lat, lon) + 100.0 * up)
    np.testing.assert_allclose(h, 100.0, atol=MM_KM)


def test_ground_distance_closed_forms() -> None:
    quarter = np.pi * EARTH_MEAN_RADIUS_KM / 2
    assert ground_distance_km(0.0, 0.0, 90.0, 0.0) == pytest.approx(quarter, rel=1e-12)
    assert ground_distance_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(quarter / 90, rel=1e-12)
    assert ground_distance_km(10.0, 20.0, 10.0, 20.0) == 0.0
    assert ground_distance_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(2 * quarter, rel=1e-12)
    assert ground_distance_km(12.0, 170.0, -3.0, -175.0) == pytest.approx(
        ground_distance_km(-3.0, -175.0, 12.0, 170.0), rel=1e-15
    )


@settings(max_examples=200, deadline=None)
@given(mid_latitudes, longitudes, st.floats(0.0, 360.0), st.floats(0.0, 5000.0))
def test_destination_travels_the_distance(lat: float, lon: float, bearing: float, d: float) -> None:
    lat2, lon2 = destination(lat, lon, bearing, d)
    assert float(ground_distance_km(lat, lon, lat2, lon2)) == pytest.approx(d, abs=MM_KM)
    x, y = azimuthal_equidistant(lat, lon, lat2, lon2)
    assert float(x) == pytest.approx(d * np.sin(np.radians(bearing)), abs=MM_KM)
    assert float(y) == pytest.approx(d * np.cos(np.radians(bearing)), abs=MM_KM)


def test_destination_closed_forms() -> None:
    lat, lon = destination(0.0, 0.0, 0.0, np.pi * EARTH_MEAN_RADIUS_KM / 4)
    assert (float(lat), float(lon)) == pytest.approx((45.0, 0.0), abs=1e-12)
    lat, lon = destination(0.0, 10.0, 90.0, np.pi * EARTH_MEAN_RADIUS_KM / 2)
    assert (float(lat), float(lon)) == pytest.approx((0.0, 100.0), abs=1e-12)
    lat, _ = destination(80.0, 0.0, 0.0, np.pi * EARTH_MEAN_RADIUS_KM / 18)
    assert float(lat) == pytest.approx(90.0, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    latitudes,
    longitudes,
    st.floats(-3000.0 / np.sqrt(2), 3000.0 / np.sqrt(2)),
    st.floats(-3000.0 / np.sqrt(2), 3000.0 / np.sqrt(2)),
)
def test_azimuthal_equidistant_round_trip(lat0: float, lon0: float, x: float, y: float) -> None:
    lat, lon = azimuthal_equidistant_inverse(lat0, lon0, x, y)
    assert float(ground_distance_km(lat0, lon0, lat, lon)) == pytest.approx(
        np.hypot(x, y), abs=MM_KM
    )
    x2, y2 = azimuthal_equidistant(lat0, lon0, lat, lon)
    assert float(x2) == pytest.approx(x, abs=MM_KM)
    assert float(y2) == pytest.approx(y, abs=MM_KM)


@settings(max_examples=200, deadline=None)
@given(mid_latitudes, longitudes, st.floats(0.0, 360.0), st.floats(0.0, 2999.0))
def test_azimuthal_equidistant_inverse_of_forward(
    lat0: float, lon0: float, bearing: float, d: float
) -> None:
    lat, lon = destination(lat0, lon0, bearing, d)
    x, y = azimuthal_equidistant(lat0, lon0, lat, lon)
    lat2, lon2 = azimuthal_equidistant_inverse(lat0, lon0, x, y)
    assert float(ground_distance_km(lat, lon, lat2, lon2)) < MM_KM


def test_azimuthal_equidistant_vectorised_and_origin() -> None:
    lat, lon, _ = _random_geodetic(1000, 5, 0.0, 0.0)
    x, y = azimuthal_equidistant(30.0, 40.0, lat, lon)
    assert x.shape == y.shape == (1000,)
    np.testing.assert_allclose(np.hypot(x, y), ground_distance_km(30.0, 40.0, lat, lon), atol=1e-8)
    x0, y0 = azimuthal_equidistant(30.0, 40.0, 30.0, 40.0)
    assert (float(x0), float(y0)) == pytest.approx((0.0, 0.0), abs=1e-9)
    lat0, lon0 = azimuthal_equidistant_inverse(30.0, 40.0, 0.0, 0.0)
    assert (float(lat0), float(lon0)) == pytest.approx((30.0, 40.0), abs=1e-12)
