"""Uplink link-budget parameter sets: 3GPP TR 38.821 Set-1 LEO-600 Ka and S, a Starlink-like Ku set.

Values and their confidence follow SCIENCE.md §2.2-2.3; each preset's ``sources`` tags every number
[src] (taken from a cited source), [recon] (derived or chosen here, with how) or [mem] (background
knowledge, not verified against a source: lower confidence).

Conventions shared by all presets:

* ``theta_3db_deg`` is the half-power HALF-angle (half the full 3 dB beamwidth).
* ``aperture_radius_m`` is the *equivalent* aperture radius at the UPLINK frequency in the TR 38.811
  §6.4.1 sense: the Airy pattern with this radius has (to < 1 %) the preset's θ_3dB, so
  :func:`satellite.antenna.tr38811_beam_gain` and :func:`satellite.antenna.bessel_beam_gain` are
  interchangeable. 3GPP quotes the equivalent aperture at the downlink frequency (0.5 m at 20 GHz
  for Ka); the 30 GHz uplink uses the same gain and beamwidth, so the aperture scales by 20/30
  (SCIENCE.md §2.2: "Uplink Ka is 30 GHz, with apertures scaled to the same gain").
* ``channel_bandwidth_hz`` is the system uplink bandwidth; the caller splits it among the reuse
  sub-bands (e.g. 2 sub-bands for 4-colour reuse = 2 frequencies × 2 polarisations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from satellite.link import system_temperature_from_g_over_t_k, wavelength_m

__all__ = ["PRESETS", "LinkPreset", "PresetError", "get_preset"]


class PresetError(ValueError):
    """A :class:`LinkPreset` field is outside its physical range."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkPreset:
    """One uplink parameter set for Li et al. eq. (2)-(4) (users transmit, the satellite receives).

    Attributes:
        name: Registry key.
        description: One paragraph: what the set models and the main assumptions.
        sources: Citation strings, values tagged [src]/[recon]/[mem].
        altitude_km: Nominal orbit altitude h [km].
        uplink_frequency_hz: Uplink carrier f [Hz] (λ = c/f in eq. (2)-(3)).
        channel_bandwidth_hz: System uplink bandwidth B [Hz], split among the reuse sub-bands by
            the caller.
        satellite_max_gain_dbi: Satellite receive beam peak gain G_max [dBi].
        satellite_g_over_t_db_per_k: Satellite receive G/T [dB/K].
        theta_3db_deg: Satellite beam half-power HALF-angle θ_3dB [deg].
        aperture_radius_m: Equivalent aperture radius a at the uplink frequency [m] (TR 38.811).
        terminal_tx_power_w: User transmit power p [W].
        terminal_max_gain_dbi: User terminal peak gain g_max [dBi].
        terminal_theta_3db_deg: User terminal half-power half-angle [deg]; None = omnidirectional
            (e.g. a handheld), so g(α) = g_max in every direction.
        xpd_db: Cross-polarisation discrimination [dB] for ρ (eq. (3)).
        min_elevation_deg: Minimum elevation at which a user is served [deg].
        atmospheric_zenith_loss_db: Clear-sky zenith atmospheric loss [dB] (see
            :func:`satellite.losses.atmospheric_loss`).
    """

    name: str
    description: str
    sources: tuple[str, ...]
    altitude_km: float
    uplink_frequency_hz: float
    channel_bandwidth_hz: float
    satellite_max_gain_dbi: float
    satellite_g_over_t_db_per_k: float
    theta_3db_deg: float
    aperture_radius_m: float
    terminal_tx_power_w: float
    terminal_max_gain_dbi: float
    terminal_theta_3db_deg: float | None
    xpd_db: float
    min_elevation_deg: float
    atmospheric_zenith_loss_db: float

    def __post_init__(self) -> None:
        """Check ranges so that a bad preset fails where it is defined, not deep in a run."""
        positive = {
            "altitude_km": self.altitude_km,
            "uplink_frequency_hz": self.uplink_frequency_hz,
            "channel_bandwidth_hz": self.channel_bandwidth_hz,
            "aperture_radius_m": self.aperture_radius_m,
            "terminal_tx_power_w": self.terminal_tx_power_w,
        }
        for field, value in positive.items():
            if not value > 0.0:
                raise PresetError(f"LinkPreset {self.name!r}: {field} must be > 0, got {value!r}")
        angles = {"theta_3db_deg": self.theta_3db_deg}
        if self.terminal_theta_3db_deg is not None:
            angles["terminal_theta_3db_deg"] = self.terminal_theta_3db_deg
        for field, value in angles.items():
            if not 0.0 < value <= 90.0:
                raise PresetError(
                    f"LinkPreset {self.name!r}: {field} must be in (0, 90], got {value!r}"
                )
        if not 0.0 <= self.min_elevation_deg < 90.0:
            raise PresetError(
                f"LinkPreset {self.name!r}: min_elevation_deg must be in [0, 90), "
                f"got {self.min_elevation_deg!r}"
            )
        for field, value in (
            ("xpd_db", self.xpd_db),
            ("atmospheric_zenith_loss_db", self.atmospheric_zenith_loss_db),
        ):
            if not value >= 0.0:
                raise PresetError(f"LinkPreset {self.name!r}: {field} must be >= 0, got {value!r}")

    @property
    def wavelength_m(self) -> float:
        """Uplink wavelength λ = c/f [m]."""
        return wavelength_m(self.uplink_frequency_hz)

    @property
    def satellite_max_gain(self) -> float:
        """Satellite peak gain G_max (linear)."""
        return float(10.0 ** (self.satellite_max_gain_dbi / 10.0))

    @property
    def terminal_max_gain(self) -> float:
        """User terminal peak gain g_max (linear)."""
        return float(10.0 ** (self.terminal_max_gain_dbi / 10.0))

    @property
    def satellite_system_temperature_k(self) -> float:
        """Satellite receiver T_sys = 10^((G_max − G/T)/10) [K] (SCIENCE.md §2.2)."""
        return system_temperature_from_g_over_t_k(
            self.satellite_max_gain_dbi, self.satellite_g_over_t_db_per_k
        )

    @property
    def theta_3db_rad(self) -> float:
        """Satellite beam half-power half-angle θ_3dB [rad]."""
        return math.radians(self.theta_3db_deg)


_TR38821 = "3GPP TR 38.821 Tables 6.1.1.1-1/-3 via SCIENCE.md §2.2"

_LEO600_KA = LinkPreset(
    name="3gpp-leo600-ka",
    description=(
        "3GPP NTN Set-1 LEO-600 Ka-band uplink: VSAT (0.6 m dish, 2 W, 43.2 dBi) to a 38.5 dBi "
        "satellite beam (G/T 13 dB/K, full 3 dB width 1.7647 deg). The 400 MHz system bandwidth is "
        "the Ka system bandwidth quoted for the downlink, assumed for the uplink as well."
    ),
    sources=(
        f"[src] altitude 600 km, G_max 38.5 dBi, G/T 13 dB/K, 3 dB width 1.7647 deg: {_TR38821}",
        f"[src] VSAT Tx 2 W, 43.2 dBi at 30 GHz, 0.6 m dish; uplink 30 GHz: {_TR38821}",
        "[src] 400 MHz = TR 38.821 Ka (FR1) system bandwidth, SCIENCE.md §2.2 (QuaDRiGa "
        "calib_3GPP_38821_ntn.m); [recon] used as the uplink bandwidth",
        "[recon] aperture radius 0.25 m (0.5 m equivalent aperture at 20 GHz) x 20/30 = 1/6 m at "
        "30 GHz: same ka, gain and beamwidth (TR 38.811 §6.4.1 gives 1.7676 deg full width)",
        "[recon] terminal half-angle 35 deg x lambda/D = 0.583 deg (D = 0.6 m; 43.3 dBi at 60 % "
        "efficiency, matching 43.2 dBi)",
        "[recon] XPD 20 dB: low end of 20-25 dB (SCIENCE.md §3.1)",
        "[src] min elevation 10 deg: TR 38.821 uses 10-30 deg (SCIENCE.md §3.3)",
        "[mem] clear-sky zenith gaseous loss at 30 GHz ~0.3 dB (ITU-R P.676 standard atmosphere)",
    ),
    altitude_km=600.0,
    uplink_frequency_hz=30e9,
    channel_bandwidth_hz=400e6,
    satellite_max_gain_dbi=38.5,
    satellite_g_over_t_db_per_k=13.0,
    theta_3db_deg=1.7647 / 2.0,
    aperture_radius_m=0.25 * 20.0 / 30.0,
    terminal_tx_power_w=2.0,
    terminal_max_gain_dbi=43.2,
    terminal_theta_3db_deg=0.583,
    xpd_db=20.0,
    min_elevation_deg=10.0,
    atmospheric_zenith_loss_db=0.3,
)

_LEO600_S = LinkPreset(
    name="3gpp-leo600-s",
    description=(
        "3GPP NTN Set-1 LEO-600 S-band uplink: handheld (0.2 W, 0 dBi omnidirectional, linear "
        "polarisation) to a 30 dBi satellite beam (G/T 1.1 dB/K, full 3 dB width 4.4127 deg), "
        "30 MHz system bandwidth. Power-limited: at nadir the SNR over 15 MHz is about -3 dB; 3GPP "
        "handheld uplinks use a few hundred kHz."
    ),
    sources=(
        f"[src] altitude 600 km, 2 GHz, G_max 30 dBi, G/T 1.1 dB/K, 3 dB width 4.4127 deg, "
        f"2 m equivalent aperture: {_TR38821}",
        f"[src] handheld 23 dBm (0.2 W), 0 dBi: {_TR38821}",
        "[src] 30 MHz = TR 38.821 S-band (FR1) system bandwidth, SCIENCE.md §2.2",
        "[recon] XPD 0 dB: a linearly polarised handheld couples equally into RHCP and LHCP, so "
        "polarisation gives no isolation (rho = 1); the 3 dB polarisation mismatch loss is not "
        "included (add it through extra_loss if wanted)",
        "[src] min elevation 10 deg: TR 38.821 uses 10-30 deg (SCIENCE.md §3.3)",
        "[mem] clear-sky zenith gaseous loss at 2 GHz ~0.04 dB (ITU-R P.676 standard atmosphere)",
    ),
    altitude_km=600.0,
    uplink_frequency_hz=2e9,
    channel_bandwidth_hz=30e6,
    satellite_max_gain_dbi=30.0,
    satellite_g_over_t_db_per_k=1.1,
    theta_3db_deg=4.4127 / 2.0,
    aperture_radius_m=1.0,
    terminal_tx_power_w=0.2,
    terminal_max_gain_dbi=0.0,
    terminal_theta_3db_deg=None,
    xpd_db=0.0,
    min_elevation_deg=10.0,
    atmospheric_zenith_loss_db=0.04,
)

_STARLINK_KU = LinkPreset(
    name="starlink-ku",
    description=(
        "Starlink-like 550 km shell, Ku-band user uplink at 14.25 GHz with 250 MHz channels, "
        "phased-array user terminal (4 W, 35 dBi). The satellite beam (half-angle 1.5 deg, about "
        "29 km across at nadir) and its gain are assumptions made self-consistent through the "
        "TR 38.811 equivalent-aperture convention used by the 3GPP presets."
    ),
    sources=(
        "[src] 550 km shell, min elevation 25 deg: SpaceX FCC modifications 2018/2020 "
        "(SCIENCE.md §2.3)",
        "[mem] uplink 14.0-14.5 GHz (centre 14.25 GHz), 250 MHz channels (SCIENCE.md §2.3)",
        "[src] XPD 22 dB: user-link C/XPI, del Portillo, Cameron, Crawley, Acta Astronautica 2019 "
        "(SCIENCE.md §2.3)",
        "[mem] user terminal 4 W, 35 dBi (SCIENCE.md §2.3: phased-array UT 33-38 dBi); "
        "[recon] half-angle 35 deg x lambda/D = 1.47 deg for D = 0.5 m (35.2 dBi at 60 %)",
        "[recon] satellite half-angle 1.5 deg (assumption); equivalent aperture radius from "
        "ka sin(theta_3dB) = 1.61634: a = 0.2067 m; G_max = 10 log10(0.6 (ka)^2) = 33.6 dBi "
        "(efficiency 0.6, between the 0.57 (S) and 0.64 (Ka) implied by TR 38.821 Set-1)",
        "[recon] G/T = 33.6 dBi - 10 log10(450 K) = 7.1 dB/K; [mem] T_sys ~450 K for an "
        "Earth-viewing Ku receiver",
        "[mem] clear-sky zenith gaseous loss at 14 GHz ~0.1 dB (ITU-R P.676 standard atmosphere)",
    ),
    altitude_km=550.0,
    uplink_frequency_hz=14.25e9,
    channel_bandwidth_hz=250e6,
    satellite_max_gain_dbi=33.6,
    satellite_g_over_t_db_per_k=7.1,
    theta_3db_deg=1.5,
    aperture_radius_m=0.2067,
    terminal_tx_power_w=4.0,
    terminal_max_gain_dbi=35.0,
    terminal_theta_3db_deg=1.47,
    xpd_db=22.0,
    min_elevation_deg=25.0,
    atmospheric_zenith_loss_db=0.1,
)

PRESETS: Mapping[str, LinkPreset] = MappingProxyType(
    {preset.name: preset for preset in (_LEO600_KA, _LEO600_S, _STARLINK_KU)}
)
"""All presets by name (read-only)."""


def get_preset(name: str) -> LinkPreset:
    """Return the preset called ``name``.

    Args:
        name: A key of :data:`PRESETS`.

    Returns:
        The preset.

    Raises:
        KeyError: If there is no such preset; the message lists the valid names.
    """
    try:
        return PRESETS[name]
    except KeyError:
        valid = ", ".join(sorted(PRESETS))
        raise KeyError(f"unknown link preset {name!r}; valid names: {valid}") from None
