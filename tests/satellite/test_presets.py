"""Tests for satellite.presets: internal consistency, SCIENCE.md numbers and a hand link budget."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from satellite.antenna import bessel_beam_gain, to_db, tr38811_theta_3db_rad
from satellite.link import (
    BOLTZMANN_J_PER_K,
    capacity_bps_per_hz,
    noise_power_w,
    received_power_w,
    sinr,
)
from satellite.presets import PRESETS, LinkPreset, PresetError, get_preset

NAMES = ("3gpp-leo600-ka", "3gpp-leo600-s", "starlink-ku")


def test_registry() -> None:
    assert set(PRESETS) == set(NAMES)
    for name, preset in PRESETS.items():
        assert preset.name == name
        assert get_preset(name) is preset
        assert preset.description
        assert all(s.startswith(("[src]", "[recon]", "[mem]")) for s in preset.sources)
    with pytest.raises(TypeError):
        PRESETS["x"] = PRESETS[NAMES[0]]  # type: ignore[index]


def test_get_preset_error_lists_the_names() -> None:
    with pytest.raises(KeyError, match="no-such") as info:
        get_preset("no-such")
    for name in NAMES:
        assert name in str(info.value)


def test_presets_are_frozen_and_validated() -> None:
    preset = get_preset("3gpp-leo600-ka")
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.altitude_km = 1.0  # type: ignore[misc]
    with pytest.raises(PresetError, match="channel_bandwidth_hz"):
        dataclasses.replace(preset, channel_bandwidth_hz=-1.0)
    with pytest.raises(PresetError, match="theta_3db_deg"):
        dataclasses.replace(preset, theta_3db_deg=0.0)
    with pytest.raises(PresetError, match="terminal_theta_3db_deg"):
        dataclasses.replace(preset, terminal_theta_3db_deg=95.0)
    with pytest.raises(PresetError, match="xpd_db"):
        dataclasses.replace(preset, xpd_db=-3.0)
    assert dataclasses.replace(preset, terminal_theta_3db_deg=None).terminal_theta_3db_deg is None


@pytest.mark.parametrize("name", NAMES)
def test_beamwidth_matches_the_equivalent_aperture(name: str) -> None:
    preset = get_preset(name)
    airy = tr38811_theta_3db_rad(preset.aperture_radius_m, preset.wavelength_m)
    assert airy == pytest.approx(preset.theta_3db_rad, rel=0.01)


def test_3gpp_values_from_tr38821() -> None:
    ka, s = get_preset("3gpp-leo600-ka"), get_preset("3gpp-leo600-s")
    assert 2 * ka.theta_3db_deg == pytest.approx(1.7647)
    assert 2 * s.theta_3db_deg == pytest.approx(4.4127)
    assert ka.wavelength_m == pytest.approx(0.00999308, rel=1e-6)
    assert s.wavelength_m == pytest.approx(0.1498962, rel=1e-6)
    assert ka.satellite_max_gain == pytest.approx(10**3.85)
    assert ka.terminal_max_gain == pytest.approx(10**4.32)
    assert s.terminal_max_gain == 1.0
    assert s.terminal_theta_3db_deg is None
    assert ka.theta_3db_rad == pytest.approx(math.radians(0.88235))
    assert ka.satellite_system_temperature_k == pytest.approx(354.8, abs=0.1)  # SCIENCE.md §2.2
    # nadir beam diameter 2h·tan(θ_3dB): SCIENCE.md §2.2 gives 18.5 km (Ka) at 600 km
    assert 2 * ka.altitude_km * math.tan(ka.theta_3db_rad) == pytest.approx(18.5, abs=0.05)


def test_starlink_gain_is_consistent_with_its_aperture() -> None:
    preset = get_preset("starlink-ku")
    ka = 2 * math.pi * preset.aperture_radius_m / preset.wavelength_m
    assert preset.satellite_max_gain_dbi == pytest.approx(10 * math.log10(0.6 * ka**2), abs=0.05)
    t_sys = preset.satellite_system_temperature_k
    assert t_sys == pytest.approx(450.0, rel=0.01)
    # terminal: 35 dBi ≈ 60 % efficient 0.5 m aperture, half-angle 35°·λ/D
    assert preset.terminal_theta_3db_deg == pytest.approx(35 * preset.wavelength_m / 0.5, abs=0.01)


def _nadir_snr_db(name: str, sub_bands: int) -> float:
    preset = get_preset(name)
    power = received_power_w(
        tx_power_w=preset.terminal_tx_power_w,
        terminal_gain=preset.terminal_max_gain,
        beam_gain=preset.satellite_max_gain * bessel_beam_gain(0.0, preset.theta_3db_rad),
        slant_range_km=preset.altitude_km,
        wavelength_m=preset.wavelength_m,
    )
    noise = noise_power_w(
        preset.satellite_system_temperature_k, preset.channel_bandwidth_hz / sub_bands
    )
    return float(to_db(sinr(power, 0.0, noise)))


def test_ka_link_budget_at_nadir_matches_the_hand_calculation() -> None:
    # p = 2 W (3.01 dBW) + 43.2 dBi - FSPL(600 km, 30 GHz) 177.55 dB + 38.5 dBi = -92.84 dBW
    # N = -228.60 dBW/K/Hz + 10 log10(354.8 K) 25.50 + 10 log10(200 MHz) 83.01 = -120.09 dBW
    hand_db = (3.0103 + 43.2 - 177.5528 + 38.5) - (
        10 * math.log10(BOLTZMANN_J_PER_K) + 25.5 + 10 * math.log10(200e6)
    )
    assert hand_db == pytest.approx(27.25, abs=0.01)
    snr_db = _nadir_snr_db("3gpp-leo600-ka", sub_bands=2)
    assert snr_db == pytest.approx(hand_db, abs=0.01)
    assert float(capacity_bps_per_hz(10 ** (snr_db / 10))) == pytest.approx(9.05, abs=0.01)


def test_other_nadir_budgets_are_plausible() -> None:
    # S handheld over 15 MHz is power-limited (about -3 dB); the Starlink-like set is in between
    assert _nadir_snr_db("3gpp-leo600-s", sub_bands=2) == pytest.approx(-3.1, abs=0.1)
    assert 10.0 < _nadir_snr_db("starlink-ku", sub_bands=2) < 30.0


def test_presets_are_usable_as_link_preset() -> None:
    for preset in PRESETS.values():
        assert isinstance(preset, LinkPreset)
        assert np.isfinite(preset.satellite_system_temperature_k)
        assert 0.0 < preset.theta_3db_rad < math.pi / 2
