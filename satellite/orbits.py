"""Satellite orbits from TLE files or Walker-delta shells, propagated with SGP4 to ITRS.

A :class:`Constellation` is a tuple of named ``sgp4`` ``Satrec`` objects, built from TLE records
(:func:`satellite.tle.read_tle_file`, :func:`constellation_from_tles`) or laid out as a
Walker-delta pattern (:func:`walker_delta`). :func:`propagate` runs all satellites at all times
in one vectorised ``SatrecArray.sgp4`` call and rotates the result from TEME to ITRS
(:mod:`satellite.frames`).
SGP4 failures (a decayed or hyperbolic orbit) are masked in the :class:`Ephemeris`, never raised.

Shapes: vectors are xyz-first, in km (km/s), Earth-fixed ITRS (= ECEF); time is the LAST axis:
positions are ``(3, n_sats, n_times)``; one time step is ``(3, n_sats)``.

Times: TLE epochs are UTC (AIAA 2006-6753); SGP4 is fed the Julian date ``t.whole`` plus the UTC
fraction ``t.tai_fraction − leap_seconds / 86400``, exactly as skyfield's ``EarthSatellite`` does,
so positions agree with ``EarthSatellite.at(t).frame_xyz(itrs)`` to well below a millimetre.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sgp4.api import SGP4_ERRORS, WGS72, Satrec, SatrecArray
from sgp4.earth_gravity import wgs72
from skyfield.constants import DAY_S
from skyfield.timelib import Time

from .arrays import BoolArray, FloatArray
from .frames import teme_to_itrs
from .geodesy import geodetic_from_itrs
from .tle import TleRecord

__all__ = [
    "Constellation",
    "Ephemeris",
    "constellation_from_tles",
    "propagate",
    "walker_delta",
]

#: Julian date of the SGP4 epoch origin, 1949 December 31 00:00 UT.
_SGP4_EPOCH_ORIGIN_JD = 2433281.5


@dataclass(frozen=True)
class Constellation:
    """Named SGP4 satellites, in a fixed order (the satellite axis S of every array).

    Attributes:
        names: Satellite names (need not be unique: a TLE file may repeat "FALCON 9 DEB").
        satrecs: The ``sgp4.api.Satrec`` of each satellite.
    """

    names: tuple[str, ...]
    satrecs: tuple[Any, ...]

    def __post_init__(self) -> None:
        """Check that there is one name per satellite."""
        if len(self.names) != len(self.satrecs):
            raise ValueError(
                f"Constellation has {len(self.names)} names but {len(self.satrecs)} satrecs"
            )

    def __len__(self) -> int:
        return len(self.satrecs)

    def subset(self, indices: Sequence[int]) -> Constellation:
        """The satellites at ``indices``, in that order."""
        return Constellation(
            names=tuple(self.names[i] for i in indices),
            satrecs=tuple(self.satrecs[i] for i in indices),
        )

    @functools.cached_property
    def satrec_array(self) -> Any:
        """The ``sgp4.api.SatrecArray`` of all satellites, built once."""
        return SatrecArray(list(self.satrecs))


def constellation_from_tles(records: Sequence[TleRecord]) -> Constellation:
    """Build a constellation from TLE records (see :func:`read_tle_file`)."""
    return Constellation(
        names=tuple(record.name for record in records),
        satrecs=tuple(Satrec.twoline2rv(record.line1, record.line2) for record in records),
    )


def _utc_jd_parts(t: Any) -> tuple[FloatArray, FloatArray]:
    """Julian date of ``t`` as (whole, UTC fraction), split as skyfield's EarthSatellite does."""
    whole = np.asarray(t.whole, dtype=np.float64)
    fraction = np.asarray(t.tai_fraction - t._leap_seconds() / DAY_S, dtype=np.float64)
    return whole, fraction


def walker_delta(
    *,
    inclination_deg: float,
    total: int,
    planes: int,
    phasing: int,
    altitude_km: float,
    epoch: Any,
    name_prefix: str = "WALKER",
) -> Constellation:
    """A Walker-delta constellation i: t/p/f of circular orbits (Walker 1984).

    The p planes are equally spaced in right ascension of the ascending node over 360°; each holds
    s = t/p satellites equally spaced in mean anomaly; plane k is shifted in mean anomaly by
    k·f·360°/t relative to plane 0. Satellite j of plane k (both 0-based) is therefore at
    Ω = k·360°/p, M = j·360°/s + k·f·360°/t, with ω = 0, e = 0, B* = 0. The mean motion is
    Keplerian for a radius R⊕ + h with the WGS-72 constants SGP4 uses (μ = 398600.8 km³/s²,
    R⊕ = 6378.135 km): n = √(μ / (R⊕ + h)³).

    Args:
        inclination_deg: i, 0 to 180.
        total: t, the number of satellites, a multiple of ``planes``.
        planes: p, the number of orbital planes, at least 1.
        phasing: f, 0 to p - 1.
        altitude_km: h above the WGS-72 equatorial radius, > 0.
        epoch: scalar skyfield ``Time`` of the elements.
        name_prefix: names are ``f"{name_prefix}-{plane:02d}-{slot:02d}"``, both 0-based.

    Returns:
        The constellation, plane-major (satellite index k·s + j).

    Raises:
        ValueError: naming the parameter that is out of range.
    """
    total = operator.index(total)
    planes = operator.index(planes)
    phasing = operator.index(phasing)
    if planes < 1:
        raise ValueError(f"planes must be at least 1, got {planes}")
    if total < 1 or total % planes != 0:
        raise ValueError(f"total must be a positive multiple of planes ({planes}), got {total}")
    if not 0 <= phasing < planes:
        raise ValueError(f"phasing must be in 0..planes-1 = 0..{planes - 1}, got {phasing}")
    if not (math.isfinite(altitude_km) and altitude_km > 0):
        raise ValueError(f"altitude_km must be positive and finite, got {altitude_km}")
    if not 0.0 <= inclination_deg <= 180.0:
        raise ValueError(f"inclination_deg must be in 0..180, got {inclination_deg}")
    if getattr(epoch, "shape", ()) != ():
        raise ValueError("epoch must be a scalar skyfield Time")
    whole, fraction = _utc_jd_parts(epoch)
    epoch_days = float(whole - _SGP4_EPOCH_ORIGIN_JD) + float(fraction)
    radius_km = wgs72.radiusearthkm + altitude_km
    mean_motion_rad_min = math.sqrt(wgs72.mu / radius_km**3) * 60.0
    per_plane = total // planes
    names: list[str] = []
    satrecs: list[Any] = []
    for plane in range(planes):
        raan_deg = plane * 360.0 / planes
        for slot in range(per_plane):
            mean_anomaly_deg = (slot * 360.0 / per_plane + plane * phasing * 360.0 / total) % 360.0
            satrec = Satrec()
            satrec.sgp4init(
                WGS72,
                "i",
                len(satrecs) + 1,
                epoch_days,
                0.0,  # bstar
                0.0,  # ndot
                0.0,  # nddot
                0.0,  # ecco
                0.0,  # argpo
                math.radians(inclination_deg),
                math.radians(mean_anomaly_deg),
                mean_motion_rad_min,
                math.radians(raan_deg),
            )
            satrecs.append(satrec)
            names.append(f"{name_prefix}-{plane:02d}-{slot:02d}")
    return Constellation(names=tuple(names), satrecs=tuple(satrecs))


@dataclass(frozen=True, eq=False)
class Ephemeris:
    """Earth-fixed states of S satellites at T times. Entries where SGP4 failed are NaN.

    Attributes:
        names: Satellite names, length S.
        t: 1-D skyfield ``Time`` with T entries.
        position_itrs_km: ITRS positions, ``(3, S, T)``.
        velocity_itrs_km_s: ITRS (Earth-fixed) velocities, ``(3, S, T)``.
        error_code: SGP4 error codes, ``(S, T)`` uint8, 0 = fine (``sgp4.api.SGP4_ERRORS``).
    """

    names: tuple[str, ...]
    t: Any
    position_itrs_km: FloatArray
    velocity_itrs_km_s: FloatArray
    error_code: NDArray[np.uint8]

    @property
    def valid(self) -> BoolArray:
        """``(S, T)``: True where SGP4 succeeded."""
        valid: BoolArray = self.error_code == 0
        return valid

    def failure_reasons(self) -> dict[str, str]:
        """Map each satellite that fails at any time to the text of its first (earliest) error.

        A name repeated in the constellation keeps the reason of its first failing satellite.
        """
        failing = np.flatnonzero(np.any(self.error_code != 0, axis=1))
        first_bad = np.argmax(self.error_code[failing] != 0, axis=1)
        reasons: dict[str, str] = {}
        for sat, k in zip(failing.tolist(), first_bad.tolist(), strict=True):
            code = int(self.error_code[sat, k])
            reasons.setdefault(self.names[sat], SGP4_ERRORS.get(code, f"sgp4 error {code}"))
        return reasons

    def at_index(self, k: int) -> tuple[FloatArray, FloatArray, BoolArray]:
        """State at time index ``k``: position ``(3, S)``, velocity ``(3, S)``, valid ``(S,)``."""
        return (
            self.position_itrs_km[:, :, k],
            self.velocity_itrs_km_s[:, :, k],
            self.error_code[:, k] == 0,
        )

    def geodetic(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Sub-satellite latitude and longitude [deg] and height [km] on WGS84, each ``(S, T)``.

        NaN where propagation failed.
        """
        return geodetic_from_itrs(self.position_itrs_km)

    def median_altitude_km(self, k: int = 0) -> float:
        """Median height above WGS84 of the satellites that propagated at time index ``k``.

        Raises:
            ValueError: No satellite propagated at that time.
        """
        valid = self.error_code[:, k] == 0
        if not valid.any():
            raise ValueError(f"no satellite propagated at {self.t[k].utc_iso()}")
        _, _, height_km = geodetic_from_itrs(self.position_itrs_km[:, valid, k])
        return float(np.median(height_km))


def propagate(constellation: Constellation, t: Any) -> Ephemeris:
    """Propagate every satellite to every time with SGP4, in the Earth-fixed ITRS frame.

    One vectorised ``SatrecArray.sgp4`` call, then the TEME → ITRS rotation of
    :func:`satellite.frames.teme_to_itrs`. Failures are masked (NaN, nonzero ``error_code``).

    Args:
        constellation: The satellites (S).
        t: skyfield ``Time``, 1-D with T entries, or scalar (treated as T = 1).

    Returns:
        The ephemeris; its ``t`` is always 1-D.
    """
    if t.shape == ():
        t = Time(t.ts, np.atleast_1d(t.whole), np.atleast_1d(t.tt_fraction))
    whole, fraction = _utc_jd_parts(t)
    n_times = whole.shape[0]
    if len(constellation) == 0:
        error_code = np.zeros((0, n_times), dtype=np.uint8)
        r_teme = v_teme = np.zeros((0, n_times, 3))
    else:
        error_code, r_teme, v_teme = constellation.satrec_array.sgp4(whole, fraction)
    position, velocity = teme_to_itrs(np.moveaxis(r_teme, -1, 0), np.moveaxis(v_teme, -1, 0), t)
    failed = error_code != 0
    position[:, failed] = np.nan
    velocity[:, failed] = np.nan
    return Ephemeris(
        names=constellation.names,
        t=t,
        position_itrs_km=position,
        velocity_itrs_km_s=velocity,
        error_code=np.asarray(error_code, dtype=np.uint8),
    )
