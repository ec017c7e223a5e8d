"""Tests for satellite.link: SCIENCE.md §1's table, closed forms and hypothesis properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from satellite.link import (
    BOLTZMANN_J_PER_K,
    EARTH_RADIUS_KM,
    LinkParameterError,
    capacity_bps_per_hz,
    co_channel_interference_w,
    free_space_loss,
    noise_power_w,
    off_axis,
    off_axis_eq1,
    polarization_isolation,
    received_power_w,
    sinr,
    system_temperature_from_g_over_t_k,
    wavelength_m,
)

R = EARTH_RADIUS_KM
H = 550.0
SAT = np.array([R + H, 0.0, 0.0])  # above (lat 0, lon 0)


def on_equator(arc_km: float) -> np.ndarray:
    """Ground point on the equator ``arc_km`` east of the sub-satellite point."""
    a = arc_km / R
    return R * np.array([math.cos(a), math.sin(a), 0.0])


def north_of(arc_km: float, offset_km: float) -> np.ndarray:
    """Ground point ``offset_km`` due north (cross-track) of on_equator(arc_km)."""
    a, p = arc_km / R, offset_km / R
    return R * np.array([math.cos(p) * math.cos(a), math.cos(p) * math.sin(a), math.sin(p)])


# (cell centre, user, ground distance centre-user [km], θ [deg]) from SCIENCE.md §1's table
SCIENCE_TABLE = [
    (on_equator(0.0), on_equator(10.0), 10.0, 1.0416),
    (on_equator(300.0), on_equator(310.0), 10.0, 0.7697),  # 10 km radial (away from nadir)
    (on_equator(300.0), north_of(300.0, 10.0), 10.0, 0.9056),  # 10 km cross-track
    (on_equator(300.0), on_equator(280.0), 20.0, 1.5794),  # 20 km radial toward nadir
    (on_equator(800.0), on_equator(820.0), 20.0, 0.5583),  # 20 km radial
]


# --- geometry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("centre", "user", "ground_km", "theta_deg"), SCIENCE_TABLE)
def test_science_table_with_both_forms(
    centre: np.ndarray, user: np.ndarray, ground_km: float, theta_deg: float
) -> None:
    vector = math.degrees(float(off_axis(SAT, centre, user)))
    eq1 = math.degrees(
        float(off_axis_eq1(np.linalg.norm(centre - SAT), np.linalg.norm(user - SAT), ground_km))
    )
    assert round(vector, 4) == theta_deg
    assert round(eq1, 4) == theta_deg
    assert eq1 == pytest.approx(vector, abs=1e-9)


def test_science_table_elevations_and_slant_ranges() -> None:
    # d^s_o and the elevation column of SCIENCE.md §1's table, as a check on the construction
    for arc_km, slant_km, elevation_deg in ((300.0, 632.7, 59.0), (800.0, 998.4, 29.8)):
        centre = on_equator(arc_km)
        look = SAT - centre
        assert np.linalg.norm(look) == pytest.approx(slant_km, abs=0.05)
        elevation = math.degrees(math.asin(look @ centre / (np.linalg.norm(look) * R)))
        assert elevation == pytest.approx(elevation_deg, abs=0.05)


def test_off_axis_is_zero_at_the_cell_centre() -> None:
    centre = on_equator(300.0)
    assert off_axis(SAT, centre, centre) == 0.0
    assert off_axis_eq1(632.7, 632.7, 0.0) == 0.0


def test_off_axis_is_accurate_for_tiny_angles() -> None:
    # a user 1 mm from a nadir cell centre: θ = atan(1e-6 km / 550 km) ≈ 1.8e-9 rad
    user = np.array([R, 1e-6, 0.0])
    expected = math.atan2(1e-6, H)
    assert float(off_axis(SAT, np.array([R, 0.0, 0.0]), user)) == pytest.approx(expected, rel=1e-9)
    # eq. (1) in half-angle form keeps digits too (arccos of the printed form would give 0 here)
    d_user = math.hypot(H, 1e-6)
    assert float(off_axis_eq1(H, d_user, 1e-6)) == pytest.approx(expected, rel=1e-6)


def test_off_axis_broadcasts_xyz_first() -> None:
    rng = np.random.default_rng(1)
    sats = rng.normal(size=(3, 4)) * 7000.0
    targets = rng.normal(size=(3, 4)) * 6371.0
    users = rng.normal(size=(3, 5)) * 6371.0
    pairwise = off_axis(sats[:, :, None], targets[:, :, None], users[:, None, :])
    assert pairwise.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            assert pairwise[i, j] == off_axis(sats[:, i], targets[:, i], users[:, j])


def test_off_axis_rejects_non_xyz_first() -> None:
    with pytest.raises(LinkParameterError, match="user_km"):
        off_axis(SAT, SAT, np.zeros((4, 3)))


vectors = arrays(np.float64, 3, elements=st.floats(-2e4, 2e4))


@given(sat=vectors, target=vectors, user=vectors)
def test_off_axis_equals_the_arccos_angle(
    sat: np.ndarray, target: np.ndarray, user: np.ndarray
) -> None:
    a, b = target - sat, user - sat
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    assume(na > 1.0 and nb > 1.0)
    reference = math.acos(max(-1.0, min(1.0, float(a @ b / (na * nb)))))
    assume(1e-3 < reference < math.pi - 1e-3)  # arccos itself is ill-conditioned outside
    assert float(off_axis(sat, target, user)) == pytest.approx(reference, abs=1e-9)


def _on_sphere(lat_deg: float, lon_deg: float, radius_km: float) -> np.ndarray:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    return radius_km * np.array(
        [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]
    )


@given(
    sat_lat=st.floats(-80, 80),
    sat_lon=st.floats(-180, 180),
    altitude_km=st.floats(300, 2000),
    points=st.lists(st.floats(-15, 15), min_size=4, max_size=4),
)
def test_eq1_equals_the_vector_angle_on_a_sphere(
    sat_lat: float, sat_lon: float, altitude_km: float, points: list[float]
) -> None:
    sat = _on_sphere(sat_lat, sat_lon, R + altitude_km)
    centre = _on_sphere(sat_lat + points[0], sat_lon + points[1], R)
    user = _on_sphere(sat_lat + points[2], sat_lon + points[3], R)
    cosine = float(centre @ user) / R**2
    ground_km = R * math.atan2(float(np.linalg.norm(np.cross(centre, user))) / R**2, cosine)
    eq1 = off_axis_eq1(np.linalg.norm(centre - sat), np.linalg.norm(user - sat), ground_km)
    assert float(eq1) == pytest.approx(float(off_axis(sat, centre, user)), abs=1e-9)


def test_eq1_clips_the_impossible_triangle() -> None:
    # the paper's misreading (ground distance to nadir as d^s_Mn) leaves [-1, 1]: clipped, no NaN
    theta = off_axis_eq1([632.7, 632.7], [10.0, 2000.0], [10.0, 10.0])
    assert np.all(np.isfinite(theta))
    assert np.all((theta >= 0.0) & (theta <= math.pi))


# --- link budget -------------------------------------------------------------------------------


def test_wavelength_and_free_space_loss() -> None:
    assert wavelength_m(30e9) == pytest.approx(0.00999308, rel=1e-6)
    # 20 log10(4π · 600 km / λ) at 30 GHz = 177.55 dB (SCIENCE.md / task hand calculation)
    fspl_db = 10 * math.log10(float(free_space_loss(600.0, wavelength_m(30e9))))
    assert fspl_db == pytest.approx(177.55, abs=0.01)
    assert free_space_loss(np.ones((2, 3)), 0.01).shape == (2, 3)
    with pytest.raises(LinkParameterError, match="frequency_hz"):
        wavelength_m(0.0)


def test_received_power_is_eq2() -> None:
    lam = wavelength_m(30e9)
    p = received_power_w(
        tx_power_w=2.0,
        terminal_gain=10**4.32,
        beam_gain=10**3.85 * 0.5,
        slant_range_km=600.0,
        wavelength_m=lam,
        extra_loss=2.0,
    )
    expected = 2.0 * 10**4.32 * 10**3.85 * 0.5 / ((4 * math.pi * 600e3 / lam) ** 2 * 2.0)
    assert float(p) == pytest.approx(expected, rel=1e-14)
    with pytest.raises(LinkParameterError, match="extra_loss"):
        received_power_w(
            tx_power_w=1.0,
            terminal_gain=1.0,
            beam_gain=1.0,
            slant_range_km=600.0,
            wavelength_m=lam,
            extra_loss=[1.0, 0.0],
        )


def _interference_kwargs(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, Any]:
    return {
        "activity": rng.uniform(0.0, 1.0, shape),
        "polarization_isolation": rng.choice([1.0, 0.01], shape),
        "tx_power_w": rng.uniform(0.1, 4.0, shape),
        "terminal_gain": rng.uniform(1.0, 1e4, shape),
        "beam_gain": rng.uniform(0.0, 1e4, shape),
        "slant_range_km": rng.uniform(550.0, 1500.0, shape),
        "extra_loss": rng.uniform(1.0, 3.0, shape),
    }


def test_interference_is_eq3_summed_over_the_interferer_axis() -> None:
    rng = np.random.default_rng(3)
    kw = _interference_kwargs(rng, (4, 6))
    lam = 0.01
    total = co_channel_interference_w(**kw, wavelength_m=lam)
    each = (
        kw["activity"]
        * kw["polarization_isolation"]
        * kw["tx_power_w"]
        * kw["terminal_gain"]
        * kw["beam_gain"]
        / ((4 * np.pi * kw["slant_range_km"] * 1e3 / lam) ** 2 * kw["extra_loss"])
    )
    assert total.shape == (4,)
    np.testing.assert_allclose(total, each.sum(axis=-1), rtol=1e-13)
    np.testing.assert_allclose(
        co_channel_interference_w(**kw, wavelength_m=lam, axis=0), each.sum(axis=0), rtol=1e-13
    )


def test_interference_sums_only_present_entries() -> None:
    rng = np.random.default_rng(4)
    kw = _interference_kwargs(rng, (3, 5))
    present = np.array([[True] * 5, [True, True, False, False, False], [False] * 5])
    expected = co_channel_interference_w(**kw, wavelength_m=0.01, present=present)
    # padding holds garbage: NaN everywhere, zero range and zero loss
    for key in kw:
        kw[key] = np.where(present, kw[key], np.nan)
    kw["slant_range_km"] = np.where(present, kw["slant_range_km"], 0.0)
    kw["extra_loss"] = np.where(present, kw["extra_loss"], 0.0)
    total = co_channel_interference_w(**kw, wavelength_m=0.01, present=present)
    np.testing.assert_array_equal(total, expected)
    assert total[2] == 0.0
    subset = {key: value[1, :2] for key, value in kw.items()}
    assert total[1] == pytest.approx(float(co_channel_interference_w(**subset, wavelength_m=0.01)))


def test_noise_and_system_temperature() -> None:
    assert 10 * math.log10(BOLTZMANN_J_PER_K) == pytest.approx(-228.6, abs=0.01)
    assert 10 * math.log10(float(noise_power_w(290.0, 1.0))) == pytest.approx(-204.0, abs=0.03)
    assert float(noise_power_w(355.0, 200e6)) == pytest.approx(BOLTZMANN_J_PER_K * 355.0 * 200e6)
    assert system_temperature_from_g_over_t_k(38.5, 13.0) == pytest.approx(354.8, abs=0.1)
    assert system_temperature_from_g_over_t_k(30.0, 1.1) == pytest.approx(776.2, abs=0.1)


@given(
    p=st.floats(1e-18, 1e-6),
    i=st.floats(0.0, 1e-6),
    n=st.floats(1e-16, 1e-10),
    factor=st.floats(1.001, 1e3),
)
def test_sinr_falls_when_interference_rises(p: float, i: float, n: float, factor: float) -> None:
    lam = 0.01
    common: dict[str, Any] = {
        "activity": 1.0,
        "polarization_isolation": 1.0,
        "terminal_gain": 100.0,
        "beam_gain": 10.0,
        "slant_range_km": 800.0,
        "wavelength_m": lam,
    }
    low = co_channel_interference_w(tx_power_w=[1.0, 0.5], **common)
    high = co_channel_interference_w(tx_power_w=[1.0, 0.5 * factor], **common)
    assert high > low
    assert sinr(p, high + i, n) < sinr(p, low + i, n)
    assert float(sinr(p, i, n)) == pytest.approx(p / (i + n), rel=1e-15)


@given(arrays(np.float64, 8, elements=st.floats(0.0, 1e9)))
def test_capacity_is_log2_one_plus_sinr(gamma: np.ndarray) -> None:
    # log1p is the more accurate of the two for tiny γ, where log2(1 + γ) rounds to 0
    np.testing.assert_allclose(
        capacity_bps_per_hz(gamma), np.log2(1.0 + gamma), rtol=1e-12, atol=1e-15
    )
    assert capacity_bps_per_hz(1e-20) == pytest.approx(1e-20 / math.log(2.0), rel=1e-12)


def test_polarization_isolation() -> None:
    rho = polarization_isolation(np.array([[0], [1]]), np.array([0, 1, 0]), 22.0)
    np.testing.assert_allclose(rho, [[1.0, 10**-2.2, 1.0], [10**-2.2, 1.0, 10**-2.2]])
    assert polarization_isolation("RHCP", "LHCP", 20.0) == pytest.approx(0.01)
    assert polarization_isolation("RHCP", "RHCP", 20.0) == 1.0
    with pytest.raises(LinkParameterError, match="xpd_db"):
        polarization_isolation(0, 1, -1.0)
