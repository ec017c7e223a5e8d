"""Ground points, look angles and visibility of satellites from the ground.

Geometry: the elevation ε of a satellite s seen from a ground point u is measured against the
WGS84 normal ``up`` at u (geodetic elevation, as skyfield's ``altaz()``): sin ε = (d·up)/|d| with
d = s − u.
The azimuth is clockwise from north, in [0, 360).

The fast forms (:func:`visible`, :func:`sin_elevation`) never build an ``(S, P, 3)`` array: they use
d·up = s·up − u·up and |d|² = |s|² + |u|² − 2 s·u, each as one matrix product of augmented vectors
([s, 1]·[up, −u·up] and [s, |s|², 1]·[−2u, 1, |u|²]), over chunks of satellites that fit in cache.

Shapes: vectors are xyz-first, ``(3, ...)``, in km, Earth-fixed ITRS; time is the last axis.
Satellites are ``(3, S)`` at one time or ``(3, S, T)``; points are P long; pairwise arrays are
``(S, P)`` or ``(S, P, T)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from .arrays import BoolArray, FloatArray
from .geodesy import (
    EARTH_MEAN_RADIUS_KM,
    azimuthal_equidistant,
    azimuthal_equidistant_inverse,
    destination,
    itrs_from_geodetic,
    up_from_geodetic,
)

PLACEMENTS: Final = ("uniform", "clustered")
"""Valid ``placement`` names for :func:`place_users`."""

_CHUNK_ELEMENTS: Final = 1 << 17
"""Default chunk of the pairwise arrays (~1 MiB of float64), so the temporaries stay in cache."""
_CULL_MARGIN_RAD: Final = 1e-6
_RESAMPLE_ROUNDS: Final = 64


def _readonly(array: FloatArray) -> FloatArray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class GroundPoints:
    """Points on (or above) the WGS84 ellipsoid, with their ITRS positions and local up vectors.

    Build with :meth:`from_arrays`. The arrays are read-only.

    Attributes:
        lat_deg: Geodetic latitudes, (P,) [deg].
        lon_deg: Longitudes, (P,) [deg].
        height_km: Heights above the ellipsoid, (P,) [km].
        position_itrs_km: ITRS positions, (3, P) [km].
        up: Unit ellipsoid normals, (3, P).
    """

    lat_deg: FloatArray
    lon_deg: FloatArray
    height_km: FloatArray
    position_itrs_km: FloatArray = field(init=False)
    up: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        arrays = {
            name: np.array(getattr(self, name), dtype=np.float64)
            for name in ("lat_deg", "lon_deg", "height_km")
        }
        for name, array in arrays.items():
            if array.ndim != 1:
                raise ValueError(f"GroundPoints.{name} must be 1-D, got shape {array.shape}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"GroundPoints.{name} must be finite")
        sizes = {name: array.size for name, array in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"GroundPoints arrays differ in length: {sizes}")
        if np.any(np.abs(arrays["lat_deg"]) > 90.0):
            raise ValueError("GroundPoints.lat_deg must lie in [-90, 90]")
        for name, array in arrays.items():
            object.__setattr__(self, name, _readonly(array))
        lat, lon, height = arrays["lat_deg"], arrays["lon_deg"], arrays["height_km"]
        object.__setattr__(
            self, "position_itrs_km", _readonly(itrs_from_geodetic(lat, lon, height))
        )
        object.__setattr__(self, "up", _readonly(up_from_geodetic(lat, lon)))

    @classmethod
    def from_arrays(
        cls, lat_deg: ArrayLike, lon_deg: ArrayLike, height_km: ArrayLike | None = None
    ) -> GroundPoints:
        """Points from latitude, longitude and (default 0) height arrays.

        Args:
            lat_deg: Geodetic latitudes [deg].
            lon_deg: Longitudes [deg].
            height_km: Heights above the ellipsoid [km]; 0 if None.

        Returns:
            The points, with positions and up vectors computed once.
        """
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        height = np.zeros_like(lat) if height_km is None else np.asarray(height_km, np.float64)
        return cls(lat_deg=lat, lon_deg=lon, height_km=np.atleast_1d(height))

    def __len__(self) -> int:
        return int(self.lat_deg.size)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LookAngles:
    """Topocentric look angles from ground points to satellites, arrays (S, P) or (S, P, T).

    Attributes:
        elevation_deg: Geodetic elevation ε above the local horizon [deg].
        azimuth_deg: Azimuth clockwise from north, in [0, 360) [deg].
        slant_range_km: Slant range |s − u| [km].
    """

    elevation_deg: FloatArray
    azimuth_deg: FloatArray
    slant_range_km: FloatArray


def _satellite_columns(sat_itrs_km: ArrayLike) -> tuple[FloatArray, tuple[int, ...]]:
    sat = np.asarray(sat_itrs_km, dtype=np.float64)
    if sat.ndim not in (2, 3) or sat.shape[0] != 3:
        raise ValueError(f"sat_itrs_km must be (3, S) or (3, S, T), got shape {sat.shape}")
    return sat.reshape(3, -1), sat.shape[1:]


def look_angles(sat_itrs_km: ArrayLike, points: GroundPoints) -> LookAngles:
    """Elevation, azimuth and slant range of every satellite from every point.

    Args:
        sat_itrs_km: Satellite positions, (3, S) or (3, S, T) [km].
        points: Ground points (P of them).

    Returns:
        Look angles shaped (S, P) or (S, P, T).
    """
    sat, sat_shape = _satellite_columns(sat_itrs_km)
    lat = np.radians(points.lat_deg)
    lon = np.radians(points.lon_deg)
    east = np.stack((-np.sin(lon), np.cos(lon), np.zeros_like(lon)))
    north = np.stack((-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)))
    pos = points.position_itrs_km
    # d·v = s·v − u·v for each local axis v, as (S·T, P) matrix products.
    e = sat.T @ east - np.sum(pos * east, axis=0)
    n = sat.T @ north - np.sum(pos * north, axis=0)
    u = sat.T @ points.up - np.sum(pos * points.up, axis=0)
    horizontal = np.hypot(e, n)
    elevation = np.degrees(np.arctan2(u, horizontal))
    azimuth = np.degrees(np.arctan2(e, n)) % 360.0
    azimuth[azimuth >= 360.0] = 0.0  # (−tiny) % 360 rounds to 360.0
    slant = np.hypot(horizontal, u)

    def shaped(array: FloatArray) -> FloatArray:
        if len(sat_shape) == 1:
            return array
        s, t = sat_shape
        return np.ascontiguousarray(array.reshape(s, t, -1).transpose(0, 2, 1))

    return LookAngles(
        elevation_deg=shaped(elevation),
        azimuth_deg=shaped(azimuth),
        slant_range_km=shaped(slant),
    )


def _single_time(sat_itrs_km: ArrayLike) -> FloatArray:
    sat = np.asarray(sat_itrs_km, dtype=np.float64)
    if sat.ndim != 2 or sat.shape[0] != 3:
        raise ValueError(f"sat_itrs_km must be (3, S) at one time, got shape {sat.shape}")
    return sat


def _augmented(sat: FloatArray, points: GroundPoints) -> tuple[FloatArray, ...]:
    """Rows [s, 1], [s, |s|², 1] and columns [up; −u·up], [−2u; 1; |u|²] of the GEMM form."""
    pos = points.position_itrs_km
    ones_s = np.ones((1, sat.shape[1]))
    ones_p = np.ones((1, pos.shape[1]))
    sat_up = np.ascontiguousarray(np.vstack((sat, ones_s)).T)
    sat_range = np.ascontiguousarray(np.vstack((sat, np.sum(sat * sat, axis=0), ones_s)).T)
    point_up = np.vstack((points.up, -np.sum(pos * points.up, axis=0)))
    point_range = np.vstack((-2.0 * pos, ones_p, np.sum(pos * pos, axis=0)))
    return sat_up, sat_range, point_up, point_range


def _chunk_rows(chunk_size: int | None, n_points: int) -> int:
    if chunk_size is None:
        return max(1, _CHUNK_ELEMENTS // max(n_points, 1))
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive number of satellites, got {chunk_size}")
    return chunk_size


def _check_elevation(min_elevation_deg: float) -> None:
    if not -90.0 <= min_elevation_deg <= 90.0:
        raise ValueError(f"min_elevation_deg must lie in [-90, 90], got {min_elevation_deg}")


def candidate_satellites(
    sat_itrs_km: ArrayLike, points: GroundPoints, min_elevation_deg: float
) -> BoolArray:
    """Satellites that may see at least one point at or above ε_min: a conservative cone test.

    A satellite at radius r_s sees a point of radius r_u at geocentric elevation ≥ ε' only within
    the Earth-central angle γ_max = arccos(r_u cos ε' / r_s) − ε' (largest for the smallest r_u).
    The geodetic elevation differs from the geocentric one by at most the angle δ between the
    ellipsoid normal and the radius (≤ 0.19°), so ε' = ε_min − δ_max. A satellite is kept when its
    central angle to the points' mean direction is ≤ γ_max + the points' angular spread (+1 µrad).
    False is therefore proof of invisibility; True is only a candidate.

    Args:
        sat_itrs_km: Satellite positions, (3, S) [km].
        points: Ground points.
        min_elevation_deg: ε_min [deg].

    Returns:
        (S,) bool mask; non-finite satellites are False.
    """
    _check_elevation(min_elevation_deg)
    sat = _single_time(sat_itrs_km)
    finite: BoolArray = np.all(np.isfinite(sat), axis=0)
    pos = points.position_itrs_km
    if len(points) == 0:
        return np.zeros(sat.shape[1], dtype=np.bool_)
    radius = np.linalg.norm(pos, axis=0)
    radial = pos / radius
    tilt = float(np.max(np.arccos(np.clip(np.sum(radial * points.up, axis=0), -1.0, 1.0))))
    min_elevation = np.radians(min_elevation_deg) - tilt
    mean = radial.sum(axis=1)
    mean_norm = float(np.linalg.norm(mean))
    if min_elevation <= 0.0 or mean_norm == 0.0:
        return finite
    mean /= mean_norm
    spread = float(np.max(np.arccos(np.clip(mean @ radial, -1.0, 1.0))))
    sat_radius = np.linalg.norm(np.where(finite, sat, 0.0), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = radius.min() * np.cos(min_elevation) / sat_radius
        reach = np.arccos(np.clip(ratio, -1.0, 1.0)) - min_elevation
        cos_angle = (mean @ np.where(finite, sat, 0.0)) / sat_radius
    angle = np.arccos(np.clip(cos_angle, -1.0, 1.0))
    near: BoolArray = angle <= reach + spread + _CULL_MARGIN_RAD
    keep: BoolArray = finite & ((sat_radius <= radius.max()) | near)
    return keep


def visible(
    sat_itrs_km: ArrayLike,
    points: GroundPoints,
    min_elevation_deg: float,
    *,
    chunk_size: int | None = None,
) -> BoolArray:
    """Whether each satellite is at or above ε_min from each point (geodetic elevation).

    For ε_min ≥ 0: d·up > 0 and (d·up)² ≥ sin²ε_min·|d|²; for ε_min < 0: d·up ≥ 0 or
    (d·up)² ≤ sin²ε_min·|d|². No square root and no (S, P, 3) temporaries; satellites rejected by
    :func:`candidate_satellites` are skipped.

    Args:
        sat_itrs_km: Satellite positions, (3, S) [km].
        points: Ground points (P of them).
        min_elevation_deg: ε_min [deg].
        chunk_size: Satellites per chunk of the pairwise arrays (default: ~1 MiB chunks).

    Returns:
        (S, P) bool; non-finite satellites see nothing.
    """
    sat = _single_time(sat_itrs_km)
    rows = np.flatnonzero(candidate_satellites(sat, points, min_elevation_deg))
    out = np.zeros((sat.shape[1], len(points)), dtype=np.bool_)
    if rows.size == 0 or len(points) == 0:
        return out
    sin2 = np.sin(np.radians(min_elevation_deg)) ** 2
    sat_up, sat_range, point_up, point_range = _augmented(sat[:, rows], points)
    point_range *= sin2
    step = _chunk_rows(chunk_size, len(points))
    for start in range(0, rows.size, step):
        up_component = sat_up[start : start + step] @ point_up
        threshold = sat_range[start : start + step] @ point_range
        if min_elevation_deg >= 0.0:
            above = up_component > 0.0
            np.square(up_component, out=up_component)
            above &= up_component >= threshold
        else:
            above = up_component >= 0.0
            np.square(up_component, out=up_component)
            above |= up_component <= threshold
        out[rows[start : start + step]] = above
    return out


def sin_elevation(
    sat_itrs_km: ArrayLike, points: GroundPoints, *, chunk_size: int | None = None
) -> FloatArray:
    """Sine of the elevation, sin ε = (d·up)/|d|, of each satellite from each point (GEMM form).

    One square root per pair, on |d|²; chunked like :func:`visible`, but no satellites are skipped.

    Args:
        sat_itrs_km: Satellite positions, (3, S) [km].
        points: Ground points (P of them).
        chunk_size: Satellites per chunk of the pairwise arrays (default: ~1 MiB chunks).

    Returns:
        (S, P) sin ε in [−1, 1] (NaN for non-finite satellites).
    """
    sat = _single_time(sat_itrs_km)
    out = np.empty((sat.shape[1], len(points)), dtype=np.float64)
    sat_up, sat_range, point_up, point_range = _augmented(sat, points)
    step = _chunk_rows(chunk_size, len(points))
    with np.errstate(invalid="ignore", divide="ignore"):  # a satellite on a point gives NaN
        for start in range(0, sat.shape[1], step):
            block = out[start : start + step]
            np.matmul(sat_up[start : start + step], point_up, out=block)
            range2 = sat_range[start : start + step] @ point_range
            np.sqrt(range2, out=range2)
            block /= range2
            np.clip(block, -1.0, 1.0, out=block)
    return out


def _validate_placement(
    radius_km: float, count: int, clusters: int, cluster_radius_km: float, lat: float
) -> None:
    if not 0.0 < radius_km < np.pi * EARTH_MEAN_RADIUS_KM:
        raise ValueError(f"radius_km must lie in (0, πR) = (0, 20015), got {radius_km}")
    if count < 0:
        raise ValueError(f"count must be ≥ 0, got {count}")
    if clusters < 1:
        raise ValueError(f"clusters must be ≥ 1, got {clusters}")
    if not cluster_radius_km > 0.0:
        raise ValueError(f"cluster_radius_km must be > 0, got {cluster_radius_km}")
    if not abs(lat) <= 90.0:
        raise ValueError(f"centre_lat_deg must lie in [-90, 90], got {lat}")


def _uniform_in_cap(
    lat0: float, lon0: float, radius_km: float, count: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Area-uniform points in a spherical cap: ρ = R·arccos(1 − u(1 − cos(r/R))), bearing ~ U."""
    u = rng.random(count)
    bearing = rng.uniform(0.0, 360.0, count)
    cap = 1.0 - np.cos(radius_km / EARTH_MEAN_RADIUS_KM)
    distance = EARTH_MEAN_RADIUS_KM * np.arccos(1.0 - u * cap)
    return destination(lat0, lon0, bearing, distance)


def place_users(
    *,
    centre_lat_deg: float,
    centre_lon_deg: float,
    radius_km: float,
    count: int,
    rng: np.random.Generator,
    placement: str = "uniform",
    clusters: int = 5,
    cluster_radius_km: float = 30.0,
) -> GroundPoints:
    """Random user positions within a circular region (spherical cap) of the mean sphere.

    "uniform": area-uniform in the cap. "clustered": ``clusters`` centres area-uniform in the cap,
    each user attached to a random centre and displaced by a 2-D Gaussian of σ = cluster_radius_km/2
    on that centre's tangent plane; users falling outside the region are redrawn (up to 64 rounds,
    after which any left are pulled radially onto the region's edge).

    Args:
        centre_lat_deg: Region centre latitude [deg].
        centre_lon_deg: Region centre longitude [deg].
        radius_km: Region radius along the ground [km].
        count: Number of users.
        rng: Random generator (the only source of randomness).
        placement: One of :data:`PLACEMENTS`.
        clusters: Number of clusters ("clustered" only).
        cluster_radius_km: Cluster size, 2σ of the Gaussian [km] ("clustered" only).

    Returns:
        The users, at height 0.

    Raises:
        ValueError: Unknown placement or out-of-range argument.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    _validate_placement(radius_km, count, clusters, cluster_radius_km, centre_lat_deg)
    lat0, lon0 = float(centre_lat_deg), float(centre_lon_deg)
    if placement == "uniform":
        lat, lon = _uniform_in_cap(lat0, lon0, radius_km, count, rng)
        return GroundPoints.from_arrays(lat, lon)
    centre_lat, centre_lon = _uniform_in_cap(lat0, lon0, radius_km, clusters, rng)
    member = rng.integers(0, clusters, count)
    sigma = cluster_radius_km / 2.0
    x_km = np.empty(count)
    y_km = np.empty(count)
    pending = np.arange(count)
    for _ in range(_RESAMPLE_ROUNDS):
        if pending.size == 0:
            break
        offset = rng.normal(0.0, sigma, (2, pending.size))
        lat_p, lon_p = azimuthal_equidistant_inverse(
            centre_lat[member[pending]], centre_lon[member[pending]], offset[0], offset[1]
        )
        x_p, y_p = azimuthal_equidistant(lat0, lon0, lat_p, lon_p)
        x_km[pending], y_km[pending] = x_p, y_p
        pending = pending[np.hypot(x_p, y_p) > radius_km]
    if pending.size:
        scale = radius_km / np.hypot(x_km[pending], y_km[pending])
        x_km[pending] *= scale
        y_km[pending] *= scale
    lat, lon = azimuthal_equidistant_inverse(lat0, lon0, x_km, y_km)
    return GroundPoints.from_arrays(lat, lon)
