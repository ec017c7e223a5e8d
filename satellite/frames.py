"""Reference-frame rotation from SGP4's TEME frame to the Earth-fixed ITRS (ECEF).

SGP4 returns vectors in the True Equator, Mean Equinox (TEME) frame of date. The Earth-fixed frame
is reached by one rotation about the z axis by the Greenwich Mean Sidereal Time angle θ_GMST1982
(AIAA 2006-6753 Appendix C; skyfield ``sgp4lib.theta_GMST1982``), then, only when the skyfield
``Timescale`` carries a polar-motion table, by the polar-motion matrix W (skyfield
``Time.polar_motion_matrix``):

    r_ITRS = W · R_z(−θ) · r_TEME
    v_ITRS = W · R_z(−θ) · v_TEME + ω × r_ITRS,   ω = (0, 0, −dθ/dt) as in skyfield
    ``TEME_to_ITRF`` (W is within ~1e-6 rad of identity, so the rate term is added after W, as
    skyfield's ``itrs`` frame does),

so the velocity is the time derivative of the Earth-fixed position (it includes the Earth-rotation
term). This is the composite rotation skyfield applies on the path
``EarthSatellite.at(t).frame_xyz(itrs)``, namely ``itrs.rotation_at(t) · TEME.rotation_at(t)ᵀ``, in
which the precession-nutation matrix ``t.M`` cancels; the two agree to ~1e-14 rad, and this form is
hundreds of times cheaper because it skips the nutation series.

Shapes: vectors are xyz-first, in km and km/s. With a 1-D ``Time`` of T entries the time axis is the
LAST axis, e.g. ``(3, n_sats, n_times)``; with a scalar ``Time`` there is no time axis, e.g.
``(3, n_sats)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from skyfield.constants import DAY_S
from skyfield.sgp4lib import theta_GMST1982

from .arrays import FloatArray

__all__ = ["teme_to_itrs", "teme_to_itrs_rotation"]


def teme_to_itrs_rotation(t: Any) -> tuple[FloatArray, FloatArray]:
    """Rotation matrix TEME → ITRS and the Earth rotation rate at times ``t``.

    Args:
        t: skyfield ``Time``, scalar or 1-D with T entries.

    Returns:
        ``(rotation, earth_rotation_rad_s)``: the matrix W·R_z(−θ_GMST1982), shape ``(3, 3, T)``
        (``(3, 3)`` for a scalar time), and dθ/dt in rad/s, shape ``(T,)`` (``()`` for a scalar).
    """
    theta_rad, theta_dot_rad_per_day = theta_GMST1982(t.whole, t.ut1_fraction)
    theta_rad = np.asarray(theta_rad, dtype=np.float64)
    cos_t = np.cos(theta_rad)
    sin_t = np.sin(theta_rad)
    zero = np.zeros_like(theta_rad)
    one = np.ones_like(theta_rad)
    rotation: FloatArray = np.array(
        [[cos_t, sin_t, zero], [-sin_t, cos_t, zero], [zero, zero, one]], dtype=np.float64
    )
    if t.ts.polar_motion_table is not None:
        polar_motion = np.asarray(t.polar_motion_matrix(), dtype=np.float64)
        rotation = np.einsum("ij...,jk...->ik...", polar_motion, rotation)
    earth_rotation_rad_s: FloatArray = np.asarray(
        np.asarray(theta_dot_rad_per_day, dtype=np.float64) / DAY_S, dtype=np.float64
    )
    return rotation, earth_rotation_rad_s


def teme_to_itrs(
    position_teme_km: FloatArray, velocity_teme_km_s: FloatArray, t: Any
) -> tuple[FloatArray, FloatArray]:
    """Rotate SGP4 TEME position and velocity into the Earth-fixed ITRS frame.

    Args:
        position_teme_km: TEME positions, ``(3, ..., T)`` (e.g. ``(3, n_sats, n_times)``), or
            ``(3, ...)`` for a scalar ``t``.
        velocity_teme_km_s: TEME velocities, same shape.
        t: skyfield ``Time``: 1-D with T entries matching the last axis, or scalar.

    Returns:
        ``(position_itrs_km, velocity_itrs_km_s)``, each the shape of the input. The velocity is
        Earth-fixed: it includes the ω × r term of the Earth's rotation.

    Raises:
        ValueError: if the shapes do not match each other or the number of times.
    """
    position = np.asarray(position_teme_km, dtype=np.float64)
    velocity = np.asarray(velocity_teme_km_s, dtype=np.float64)
    if position.shape != velocity.shape or position.ndim < 1 or position.shape[0] != 3:
        raise ValueError(
            "position_teme_km and velocity_teme_km_s must have the same shape (3, ...), got "
            f"{position.shape} and {velocity.shape}"
        )
    rotation, earth_rotation_rad_s = teme_to_itrs_rotation(t)
    if rotation.ndim == 3:
        n_times = rotation.shape[2]
        if position.ndim < 2 or position.shape[-1] != n_times:
            raise ValueError(
                f"the last axis of position_teme_km {position.shape} must hold the {n_times} "
                "times of t"
            )
        spec = "ijt,j...t->i...t"
    else:
        spec = "ij,j...->i..."
    position_itrs_km: FloatArray = np.einsum(spec, rotation, position)
    velocity_itrs_km_s: FloatArray = np.einsum(spec, rotation, velocity)
    # ω = (0, 0, −θ̇): ω × r = (θ̇·y, −θ̇·x, 0)
    velocity_itrs_km_s[0] += earth_rotation_rad_s * position_itrs_km[1]
    velocity_itrs_km_s[1] -= earth_rotation_rad_s * position_itrs_km[0]
    return position_itrs_km, velocity_itrs_km_s
