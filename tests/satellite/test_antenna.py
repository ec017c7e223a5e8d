"""Tests for satellite.antenna: closed forms, scipy.special.jv references, hypothesis properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special
from scipy.optimize import brentq

from satellite.antenna import (
    BESSEL_U_AT_3DB,
    TR38811_KA_SIN_AT_3DB,
    AntennaParameterError,
    bessel_beam_gain,
    from_db,
    to_db,
    tr38811_beam_gain,
    tr38811_theta_3db_rad,
)

C = 299_792_458.0
KA_SET1_THETA_3DB = math.radians(1.7647 / 2.0)


def jv_reference(off_axis_rad: np.ndarray, theta_3db_rad: float) -> Any:
    """The straightforward scipy.special.jv evaluation (SCIENCE.md §2.1(a), guarded u >= 1e-9)."""
    u = BESSEL_U_AT_3DB * np.sin(np.abs(off_axis_rad)) / math.sin(theta_3db_rad)
    u = np.maximum(u, 1e-9)
    bracket = special.jv(1, u) / (2.0 * u) + 36.0 * special.jv(3, u) / u**3
    return bracket * bracket


def theta_at_u(u: np.ndarray, theta_3db_rad: float) -> np.ndarray:
    return np.arcsin(u * math.sin(theta_3db_rad) / BESSEL_U_AT_3DB)


# --- Bessel pattern --------------------------------------------------------------------------


def test_bessel_is_exactly_one_on_boresight() -> None:
    assert bessel_beam_gain(0.0, KA_SET1_THETA_3DB) == 1.0
    assert bessel_beam_gain(-0.0, KA_SET1_THETA_3DB) == 1.0
    np.testing.assert_array_equal(bessel_beam_gain(np.zeros((2, 3)), 0.1), np.ones((2, 3)))
    assert to_db(bessel_beam_gain(0.0, KA_SET1_THETA_3DB)) == 0.0


@pytest.mark.parametrize("theta_3db_deg", [0.1, 0.88235, 2.20635, 10.0, 45.0])
def test_bessel_is_minus_3db_at_theta_3db(theta_3db_deg: float) -> None:
    theta_3db = math.radians(theta_3db_deg)
    assert float(to_db(bessel_beam_gain(theta_3db, theta_3db))) == pytest.approx(-3.0103, abs=0.001)


def test_bessel_u_constant_is_the_half_power_root() -> None:
    def half_power(u: float) -> float:
        bracket = special.jv(1, u) / (2 * u) + 36 * special.jv(3, u) / u**3
        return float(bracket * bracket - 0.5)

    assert brentq(half_power, 1.5, 2.5, xtol=1e-14) == pytest.approx(BESSEL_U_AT_3DB, abs=1e-5)


def test_bessel_matches_jv_reference_on_a_dense_grid() -> None:
    theta_3db = KA_SET1_THETA_3DB
    u = np.concatenate(
        [
            np.geomspace(1e-12, 2.5, 20_000),  # tiny u and the series/recurrence switch at 2
            np.linspace(0.0, 30.0, 300_001),
            np.linspace(1.999, 2.001, 2_001),
        ]
    )
    fast = bessel_beam_gain(theta_at_u(u, theta_3db), theta_3db)
    reference = jv_reference(theta_at_u(u, theta_3db), theta_3db)
    np.testing.assert_allclose(fast, reference, rtol=0.0, atol=1e-10)
    main_lobe = u < 5.0  # first null at u = 5.907
    np.testing.assert_allclose(fast[main_lobe], reference[main_lobe], rtol=1e-12, atol=0.0)
    # the whole visible hemisphere, where u reaches ~134
    theta = np.linspace(0.0, math.pi / 2, 100_001)
    np.testing.assert_allclose(
        bessel_beam_gain(theta, theta_3db), jv_reference(theta, theta_3db), rtol=0.0, atol=1e-10
    )


def test_bessel_main_lobe_is_monotone_to_the_first_null() -> None:
    u = np.linspace(0.0, 5.9, 10_000)
    gain = bessel_beam_gain(theta_at_u(u, 0.01), 0.01)
    assert np.all(np.diff(gain) < 0.0)
    assert gain[-1] < 1e-6


@given(
    theta=st.floats(min_value=-math.pi, max_value=math.pi),
    theta_3db=st.floats(min_value=1e-4, max_value=math.pi / 2),
)
def test_bessel_is_symmetric_and_between_zero_and_one(theta: float, theta_3db: float) -> None:
    gain = float(bessel_beam_gain(theta, theta_3db))
    assert 0.0 <= gain <= 1.0
    assert float(bessel_beam_gain(-theta, theta_3db)) == gain


def test_bessel_back_hemisphere_gets_the_90_degree_level() -> None:
    at_90 = bessel_beam_gain(math.pi / 2, 0.01)
    np.testing.assert_array_equal(bessel_beam_gain([2.0, math.pi, -math.pi], 0.01), [at_90] * 3)
    assert at_90 < 1e-6


def test_bessel_keeps_shapes() -> None:
    assert bessel_beam_gain(0.1, 0.1).shape == ()
    assert bessel_beam_gain(np.empty((0, 4)), 0.1).shape == (0, 4)
    assert bessel_beam_gain(np.full((2, 3, 4), 0.01), 0.1).shape == (2, 3, 4)
    assert bessel_beam_gain([0.0, 0.5], 0.1).dtype == np.float64


@pytest.mark.parametrize("bad", [0.0, -0.1, 2.0, math.nan])
def test_bessel_rejects_bad_beamwidth(bad: float) -> None:
    with pytest.raises(AntennaParameterError, match="theta_3db_rad"):
        bessel_beam_gain(0.0, bad)


# --- TR 38.811 pattern -----------------------------------------------------------------------


def test_tr38811_constant_is_the_half_power_point() -> None:
    z = TR38811_KA_SIN_AT_3DB
    assert 4.0 * (special.j1(z) / z) ** 2 == pytest.approx(0.5, abs=1e-14)


@pytest.mark.parametrize(
    ("radius_m", "frequency_hz", "full_width_deg"),
    [(0.25, 20e9, 1.768), (1.0, 2e9, 4.420), (0.25 * 20 / 30, 30e9, 1.768)],
)
def test_tr38811_full_widths_match_science(
    radius_m: float, frequency_hz: float, full_width_deg: float
) -> None:
    wavelength = C / frequency_hz
    theta_3db = tr38811_theta_3db_rad(radius_m, wavelength)
    assert math.degrees(2.0 * theta_3db) == pytest.approx(full_width_deg, abs=0.005)
    assert float(tr38811_beam_gain(theta_3db, radius_m, wavelength)) == pytest.approx(
        0.5, abs=1e-12
    )


def test_tr38811_is_one_on_boresight_and_bounded() -> None:
    wavelength = C / 20e9
    assert tr38811_beam_gain(0.0, 0.25, wavelength) == 1.0
    theta = np.linspace(-math.pi, math.pi, 200_001)
    gain = tr38811_beam_gain(theta, 0.25, wavelength)
    assert gain.shape == theta.shape
    assert np.all((gain >= 0.0) & (gain <= 1.0))
    np.testing.assert_array_equal(gain, tr38811_beam_gain(-theta, 0.25, wavelength))
    # small-angle limit: 4(J1(z)/z)^2 = 1 - z^2/4 + ...
    z = 1e-4
    theta_small = math.asin(z / (2 * math.pi * 0.25 / wavelength))
    assert float(tr38811_beam_gain(theta_small, 0.25, wavelength)) == pytest.approx(
        1 - z * z / 4, abs=1e-15
    )


def test_main_lobes_of_the_two_patterns_agree_to_minus_3db() -> None:
    for radius_m, frequency_hz in ((0.25, 20e9), (1.0, 2e9)):
        wavelength = C / frequency_hz
        theta_3db = tr38811_theta_3db_rad(radius_m, wavelength)
        theta = np.linspace(0.0, theta_3db, 1_001)
        difference_db = to_db(bessel_beam_gain(theta, theta_3db)) - to_db(
            tr38811_beam_gain(theta, radius_m, wavelength)
        )
        assert np.max(np.abs(difference_db)) < 0.1
        assert np.max(np.abs(difference_db)) < 0.06  # SCIENCE.md §2.1: ≈ 0.05 dB


def test_tr38811_rejects_bad_apertures() -> None:
    with pytest.raises(AntennaParameterError, match="never falls to half power"):
        tr38811_theta_3db_rad(0.001, 0.03)
    with pytest.raises(AntennaParameterError, match="aperture_radius_m"):
        tr38811_beam_gain(0.0, 0.0, 0.01)
    with pytest.raises(AntennaParameterError, match="aperture_radius_m"):
        tr38811_theta_3db_rad(0.25, -0.01)


# --- dB helpers ------------------------------------------------------------------------------


def test_db_helpers() -> None:
    assert to_db(0.0) == -math.inf  # no RuntimeWarning (filterwarnings = error)
    np.testing.assert_array_equal(to_db([1.0, 10.0, 100.0]), [0.0, 10.0, 20.0])
    assert float(from_db(-3.0)) == pytest.approx(0.501187, rel=1e-6)
    x = np.geomspace(1e-20, 1e20, 101)
    np.testing.assert_allclose(from_db(to_db(x)), x, rtol=1e-13)
    assert from_db(-math.inf) == 0.0
