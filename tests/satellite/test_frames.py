"""TEME → ITRS against skyfield's own frame machinery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skyfield.api import EarthSatellite, load
from skyfield.framelib import itrs
from skyfield.timelib import Time

from satellite.frames import teme_to_itrs, teme_to_itrs_rotation

TLE_PATH = Path(__file__).parents[2] / "data" / "tle" / "starlink-2022-09.tle"
MM_KM = 1e-6  # one millimetre, in km
MM_S_KM_S = 1e-6  # one millimetre per second, in km/s


def _satellites(ts: Any, count: int) -> list[EarthSatellite]:
    lines = [line for line in TLE_PATH.read_text().splitlines() if line.strip()]
    step = len(lines) // 3 // count
    return [
        EarthSatellite(lines[3 * i + 1], lines[3 * i + 2], lines[3 * i].strip(), ts)
        for i in range(0, step * count, step)
    ]


def _teme_stack(satellites: list[EarthSatellite], t: Any) -> tuple[np.ndarray, np.ndarray]:
    """TEME states of the satellites as (3, S, T) arrays, from skyfield's own SGP4 call."""
    states = [sat._position_and_velocity_TEME_km(t) for sat in satellites]
    position = np.stack([r for r, _, _ in states], axis=1)
    velocity = np.stack([v for _, v, _ in states], axis=1)
    return position, velocity


def test_teme_to_itrs_matches_skyfield_earth_satellite_to_itrs() -> None:
    ts = load.timescale()
    t = ts.utc(2022, 9, 13, 12, np.linspace(-720.0, 720.0, 5))
    satellites = _satellites(ts, 8)
    r_teme, v_teme = _teme_stack(satellites, t)
    position, velocity = teme_to_itrs(r_teme, v_teme, t)
    assert position.shape == velocity.shape == (3, 8, 5)
    for s, sat in enumerate(satellites):
        truth_r, truth_v = sat.at(t).frame_xyz_and_velocity(itrs)
        # skyfield's velocity uses the constant ANGVEL, ours dθ_GMST1982/dt: 8.6e-12 rad/s apart,
        # i.e. ~0.06 mm/s at LEO radius.
        np.testing.assert_allclose(position[:, s], truth_r.km, rtol=0, atol=MM_KM)
        np.testing.assert_allclose(velocity[:, s], truth_v.km_per_s, rtol=0, atol=MM_S_KM_S)


def test_polar_motion_is_applied_like_skyfield() -> None:
    ts = load.timescale()
    ts.polar_motion_table = [0.0], [0.2], [0.4]  # arcseconds, as skyfield's tests do
    t = ts.utc(2022, 9, 13, 12, np.linspace(0.0, 600.0, 3))
    satellites = _satellites(ts, 3)
    r_teme, v_teme = _teme_stack(satellites, t)
    position, velocity = teme_to_itrs(r_teme, v_teme, t)
    without_pm, _ = teme_to_itrs(r_teme, v_teme, load.timescale().tt_jd(t.whole, t.tt_fraction))
    # 0.4" of polar motion moves a LEO satellite by ~13 m: the test would see a missing W.
    assert np.abs(position - without_pm).max() > 5e-3
    for s, sat in enumerate(satellites):
        truth_r, truth_v = sat.at(t).frame_xyz_and_velocity(itrs)
        np.testing.assert_allclose(position[:, s], truth_r.km, rtol=0, atol=MM_KM)
        np.testing.assert_allclose(velocity[:, s], truth_v.km_per_s, rtol=0, atol=MM_S_KM_S)


def test_velocity_is_the_time_derivative_of_the_earth_fixed_position() -> None:
    # A point fixed in TEME (zero TEME velocity) moves in ITRS only by the Earth's rotation; its
    # ITRS velocity must equal the central difference of its ITRS positions (1 s step).
    ts = load.timescale()
    t = ts.utc(2022, 9, 13, np.array([0.0, 7.0, 19.0]))
    r_teme = np.array([[7000.0, -3000.0], [1000.0, 5000.0], [2000.0, -4000.0]])[:, :, None]
    r_teme = np.repeat(r_teme, 3, axis=2)
    zero = np.zeros_like(r_teme)
    _, velocity = teme_to_itrs(r_teme, zero, t)
    half_step_days = 0.5 / 86400.0
    later = Time(ts, t.whole, t.tt_fraction + half_step_days)
    earlier = Time(ts, t.whole, t.tt_fraction - half_step_days)
    difference = teme_to_itrs(r_teme, zero, later)[0] - teme_to_itrs(r_teme, zero, earlier)[0]
    np.testing.assert_allclose(velocity, difference / 1.0, rtol=0, atol=MM_S_KM_S)
    # |v| = ω·ρ with ρ the distance from the rotation axis and ω ≈ 7.2921e-5 rad/s
    rho = np.hypot(r_teme[0], r_teme[1])
    np.testing.assert_allclose(np.linalg.norm(velocity, axis=0), 7.292115e-5 * rho, rtol=1e-6)


def test_scalar_time_has_no_time_axis_and_matches_the_array_result() -> None:
    ts = load.timescale()
    t = ts.utc(2022, 9, 13, 5, np.array([0.0, 30.0]))
    rng = np.random.default_rng(7)
    r_teme = rng.normal(0.0, 5000.0, (3, 4, 2))
    v_teme = rng.normal(0.0, 5.0, (3, 4, 2))
    position, velocity = teme_to_itrs(r_teme, v_teme, t)
    p1, v1 = teme_to_itrs(r_teme[:, :, 1], v_teme[:, :, 1], t[1])
    assert p1.shape == v1.shape == (3, 4)
    np.testing.assert_allclose(p1, position[:, :, 1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(v1, velocity[:, :, 1], rtol=0, atol=1e-12)


def test_shape_errors_are_reported() -> None:
    ts = load.timescale()
    t = ts.utc(2022, 9, 13, 0, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="same shape"):
        teme_to_itrs(np.zeros((3, 2, 3)), np.zeros((3, 2, 2)), t)
    with pytest.raises(ValueError, match="3 times"):
        teme_to_itrs(np.zeros((3, 2, 2)), np.zeros((3, 2, 2)), t)


@settings(max_examples=30, deadline=None)
@given(
    minutes=st.floats(min_value=0.0, max_value=10 * 1440.0),
    xyz=st.lists(st.floats(min_value=-1e4, max_value=1e4), min_size=3, max_size=3),
)
def test_rotation_is_proper_and_keeps_z(minutes: float, xyz: list[float]) -> None:
    ts = load.timescale()
    t = ts.utc(2022, 9, 13, 0, np.array([minutes]))
    rotation, rate = teme_to_itrs_rotation(t)
    matrix = rotation[:, :, 0]
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(3), atol=1e-14)
    assert np.linalg.det(matrix) == pytest.approx(1.0, abs=1e-14)
    vector = np.array(xyz)
    rotated = matrix @ vector
    assert np.linalg.norm(rotated) == pytest.approx(np.linalg.norm(vector), rel=1e-12, abs=1e-9)
    assert rotated[2] == pytest.approx(vector[2], abs=1e-9)  # no polar motion: a pure z rotation
    assert rate[0] == pytest.approx(7.2921158e-5, rel=1e-7)
