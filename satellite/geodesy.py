"""Geodesy: WGS84 ground points and great-circle geometry on the mean sphere.

Two Earth models are used, each where it belongs:

* WGS84 (ellipsoid) for real positions: ground points, satellites, look angles, the local "up"
  (the ellipsoid normal, so elevations are geodetic, as in skyfield's ``altaz()``).
* A sphere of mean radius ``EARTH_MEAN_RADIUS_KM`` for the layout of Earth-fixed cells
  (SCIENCE.md §3.3, Option B): great-circle destinations, ground distances and the azimuthal
  equidistant projection about a reference point.

Shapes: position vectors are xyz-first, ``(3, ...)``, in km, Earth-fixed ITRS (= ECEF). Angles are
in degrees at the interface (``_deg``); functions broadcast their array arguments together.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from .arrays import FloatArray

WGS84_A_KM: Final = 6378.137
"""WGS84 equatorial radius a [km]."""
WGS84_F: Final = 1.0 / 298.257223563
"""WGS84 flattening f."""
WGS84_E2: Final = WGS84_F * (2.0 - WGS84_F)
"""First eccentricity squared e² = f(2 − f)."""
EARTH_MEAN_RADIUS_KM: Final = 6371.0088
"""IUGG mean Earth radius R₁ = (2a + b)/3 [km], the sphere used for the cell layout."""

_GEODETIC_ITERATIONS: Final = 3


def _f64(value: ArrayLike) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


def itrs_from_geodetic(
    lat_deg: ArrayLike, lon_deg: ArrayLike, height_km: ArrayLike = 0.0
) -> FloatArray:
    """Earth-fixed position of geodetic coordinates on the WGS84 ellipsoid.

    x = (N + h) cosφ cosλ, y = (N + h) cosφ sinλ, z = (N(1 − e²) + h) sinφ, with the prime-vertical
    radius of curvature N = a / √(1 − e² sin²φ).

    Args:
        lat_deg: Geodetic latitude φ [deg].
        lon_deg: Longitude λ [deg], east positive.
        height_km: Height h above the ellipsoid [km].

    Returns:
        ITRS position, shape ``(3, *broadcast_shape)`` [km].
    """
    lat = np.radians(_f64(lat_deg))
    lon = np.radians(_f64(lon_deg))
    h = _f64(height_km)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    xy = (n + h) * cos_lat
    x, y, z = np.broadcast_arrays(
        xy * np.cos(lon), xy * np.sin(lon), (n * (1.0 - WGS84_E2) + h) * sin_lat
    )
    return np.stack((x, y, z))


def geodetic_from_itrs(xyz_km: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Geodetic latitude, longitude and height of Earth-fixed positions (WGS84).

    Bowring's iteration on the reduced latitude β: tan φ = (z + e'² b sin³β) / (p − e² a cos³β),
    tan β = (1 − f) tan φ, started from tan β = z / ((1 − f) p). It converges cubically; three steps
    are below 1 µm at LEO heights. The height is h = p cosφ + z sinφ − a √(1 − e² sin²φ), which is
    well conditioned at every latitude, poles included.

    Args:
        xyz_km: ITRS positions, shape ``(3, ...)`` [km].

    Returns:
        ``(lat_deg, lon_deg, height_km)``, each of shape ``...``; longitude in [−180, 180].
    """
    xyz = _f64(xyz_km)
    x, y, z = xyz[0], xyz[1], xyz[2]
    p = np.hypot(x, y)
    b = WGS84_A_KM * (1.0 - WGS84_F)
    ep2 = WGS84_E2 / (1.0 - WGS84_E2)
    beta = np.arctan2(z, (1.0 - WGS84_F) * p)
    lat = beta
    for _ in range(_GEODETIC_ITERATIONS):
        sin_b = np.sin(beta)
        cos_b = np.cos(beta)
        lat = np.arctan2(z + ep2 * b * sin_b**3, p - WGS84_E2 * WGS84_A_KM * cos_b**3)
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(lat), np.cos(lat))
    sin_lat = np.sin(lat)
    height = p * np.cos(lat) + z * sin_lat - WGS84_A_KM * np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), height


def up_from_geodetic(lat_deg: ArrayLike, lon_deg: ArrayLike) -> FloatArray:
    """Unit normal to the WGS84 ellipsoid ("up") at geodetic coordinates.

    Args:
        lat_deg: Geodetic latitude φ [deg].
        lon_deg: Longitude λ [deg].

    Returns:
        (cosφ cosλ, cosφ sinλ, sinφ), shape ``(3, *broadcast_shape)``.
    """
    lat = np.radians(_f64(lat_deg))
    lon = np.radians(_f64(lon_deg))
    cos_lat = np.cos(lat)
    x, y, z = np.broadcast_arrays(cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat))
    return np.stack((x, y, z))


def _east_north_up(lat_rad: FloatArray, lon_rad: FloatArray) -> tuple[FloatArray, ...]:
    """Local east, north and up unit vectors of a sphere point, each ``(3, ...)``."""
    sin_lat, cos_lat = np.sin(lat_rad), np.cos(lat_rad)
    sin_lon, cos_lon = np.sin(lon_rad), np.cos(lon_rad)
    zero = np.zeros_like(sin_lat * sin_lon)
    east = np.stack(np.broadcast_arrays(-sin_lon, cos_lon, zero))
    north = np.stack(np.broadcast_arrays(-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat))
    up = np.stack(np.broadcast_arrays(cos_lat * cos_lon, cos_lat * sin_lon, sin_lat))
    return east, north, up


def _lat_lon_deg_of_unit(vector: FloatArray) -> tuple[FloatArray, FloatArray]:
    lat = np.degrees(np.arctan2(vector[2], np.hypot(vector[0], vector[1])))
    lon = np.degrees(np.arctan2(vector[1], vector[0]))
    return lat, lon


def destination(
    lat_deg: ArrayLike, lon_deg: ArrayLike, bearing_deg: ArrayLike, distance_km: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Great-circle destination on the mean sphere.

    Computed in vector form, p = cosδ·û + sinδ·(cosθ·n̂ + sinθ·ê) with δ = d/R, which stays accurate
    near the poles and for short distances (unlike the arcsin form).

    Args:
        lat_deg: Start latitude [deg].
        lon_deg: Start longitude [deg].
        bearing_deg: Initial bearing θ, clockwise from north [deg].
        distance_km: Great-circle distance d along the mean sphere [km].

    Returns:
        ``(lat_deg, lon_deg)`` of the destination; longitude in [−180, 180].
    """
    lat, lon, bearing_d, dist = np.broadcast_arrays(
        _f64(lat_deg), _f64(lon_deg), _f64(bearing_deg), _f64(distance_km)
    )
    east, north, up = _east_north_up(np.radians(lat), np.radians(lon))
    bearing = np.radians(bearing_d)
    delta = dist / EARTH_MEAN_RADIUS_KM
    sin_d = np.sin(delta)
    p = np.cos(delta) * up + sin_d * (np.cos(bearing) * north + np.sin(bearing) * east)
    return _lat_lon_deg_of_unit(p)


def ground_distance_km(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> FloatArray:
    """Great-circle distance on the mean sphere (haversine formula).

    d = 2R·asin √(sin²(Δφ/2) + cosφ₁ cosφ₂ sin²(Δλ/2)).

    Args:
        lat1_deg: Latitude of the first point [deg].
        lon1_deg: Longitude of the first point [deg].
        lat2_deg: Latitude of the second point [deg].
        lon2_deg: Longitude of the second point [deg].

    Returns:
        Distance [km], broadcast shape of the inputs.
    """
    lat1 = np.radians(_f64(lat1_deg))
    lat2 = np.radians(_f64(lat2_deg))
    dlat = lat2 - lat1
    dlon = np.radians(_f64(lon2_deg) - _f64(lon1_deg))
    hav = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2.0) ** 2
    central: FloatArray = 2.0 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))
    return EARTH_MEAN_RADIUS_KM * central


def azimuthal_equidistant(
    lat0_deg: ArrayLike, lon0_deg: ArrayLike, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Azimuthal equidistant projection about (lat0, lon0) on the mean sphere.

    A point at great-circle distance ρ and initial bearing θ from the origin maps to
    (x, y) = ρ·(sinθ, cosθ) on the origin's tangent plane (SCIENCE.md §3.3, Option B).

    Args:
        lat0_deg: Latitude of the projection origin [deg].
        lon0_deg: Longitude of the projection origin [deg].
        lat_deg: Latitude of the projected points [deg].
        lon_deg: Longitude of the projected points [deg].

    Returns:
        ``(x_east_km, y_north_km)`` on the tangent plane [km].
    """
    lat0, lon0, lat, lon = np.radians(
        np.broadcast_arrays(_f64(lat0_deg), _f64(lon0_deg), _f64(lat_deg), _f64(lon_deg))
    )
    east, north, up = _east_north_up(lat0, lon0)
    _, _, p = _east_north_up(lat, lon)
    e = (east * p).sum(axis=0)
    n = (north * p).sum(axis=0)
    u = (up * p).sum(axis=0)
    sin_c = np.hypot(e, n)
    central = np.arctan2(sin_c, u)
    # ρ / sin c → R as c → 0; sinc(x) = sin(πx)/(πx) keeps it finite.
    scale = EARTH_MEAN_RADIUS_KM / np.sinc(central / np.pi)
    return scale * e, scale * n


def azimuthal_equidistant_inverse(
    lat0_deg: ArrayLike, lon0_deg: ArrayLike, x_east_km: ArrayLike, y_north_km: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Inverse azimuthal equidistant projection: tangent-plane (x, y) back to the mean sphere.

    Equivalent to :func:`destination` with distance ρ = |(x, y)| and bearing atan2(x, y).

    Args:
        lat0_deg: Latitude of the projection origin [deg].
        lon0_deg: Longitude of the projection origin [deg].
        x_east_km: East coordinate on the tangent plane [km].
        y_north_km: North coordinate on the tangent plane [km].

    Returns:
        ``(lat_deg, lon_deg)``; longitude in [−180, 180].
    """
    lat0, lon0, x_km, y_km = np.broadcast_arrays(
        _f64(lat0_deg), _f64(lon0_deg), _f64(x_east_km), _f64(y_north_km)
    )
    east, north, up = _east_north_up(np.radians(lat0), np.radians(lon0))
    x = x_km / EARTH_MEAN_RADIUS_KM
    y = y_km / EARTH_MEAN_RADIUS_KM
    delta = np.hypot(x, y)
    # p = cosδ·û + (sinδ/δ)·(x·ê + y·n̂); sinc avoids 0/0 at the origin.
    sinc = np.sinc(delta / np.pi)
    p = np.cos(delta) * up + sinc * (x * east + y * north)
    return _lat_lon_deg_of_unit(p)
