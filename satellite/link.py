"""Uplink geometry, link budget, co-channel interference, SINR and capacity: Li et al. eq. (1)-(4).

Li et al., *Blockchain-Based Approach for Securing Spectrum Trading in Multibeam Satellite Systems*
(arXiv 2012.10681), with the corrections of SCIENCE.md §1 and §3.1: in eq. (1) d^s_Mn is the slant
range to the user; in eq. (2)-(4) ``tπ → 4π``, ``ρ_Mn → p_Mn``, ``M → λ``, ``ϕ → θ``, ``ε → α``;
the interference gain is the victim beam's gain G_M(θ_{M,c}).

Conventions: vectors are xyz-first ``(3, ...)`` in km, Earth-fixed ITRS (= ECEF); everything else
broadcasts like numpy ufuncs (time, when present, is the last axis). Distances are in km at the
interface and converted to metres inside. All quantities are linear (W, W/Hz, power ratios); dB
only appears in argument names that say so (``_db``, ``_dbi``). Losses are linear factors that
divide (≥ 1, except that a log-normal shadowing draw may be a fade-up).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BOLTZMANN_J_PER_K",
    "EARTH_RADIUS_KM",
    "SPEED_OF_LIGHT_M_S",
    "LinkParameterError",
    "capacity_bps_per_hz",
    "co_channel_interference_w",
    "free_space_loss",
    "noise_power_w",
    "off_axis",
    "off_axis_eq1",
    "polarization_isolation",
    "received_power_w",
    "sinr",
    "system_temperature_from_g_over_t_k",
    "wavelength_m",
]

SPEED_OF_LIGHT_M_S = 299_792_458.0
"""c [m/s] (exact, SI)."""

BOLTZMANN_J_PER_K = 1.380649e-23
"""k_B [J/K] (exact, SI); 10·log10(k_B) = −228.6 dBW/K/Hz (SCIENCE.md §2.2)."""

EARTH_RADIUS_KM = 6371.0
"""R of Li et al. eq. (1): the mean spherical Earth radius [km] (SCIENCE.md §1)."""

_LN2 = math.log(2.0)
_KM_TO_M = 1000.0


class LinkParameterError(ValueError):
    """A link-budget argument is outside its physical range (e.g. a loss < 1, a negative width)."""


def wavelength_m(frequency_hz: float) -> float:
    """λ = c/f [m].

    Args:
        frequency_hz: Carrier frequency f [Hz], > 0.

    Returns:
        Wavelength λ [m].

    Raises:
        LinkParameterError: If the frequency is not positive.
    """
    if not frequency_hz > 0.0:
        raise LinkParameterError(f"wavelength_m: frequency_hz must be > 0, got {frequency_hz!r}")
    return SPEED_OF_LIGHT_M_S / frequency_hz


def off_axis(
    sat_km: ArrayLike, boresight_target_km: ArrayLike, user_km: ArrayLike
) -> NDArray[np.float64]:
    """Off-axis angle θ_Mn at the satellite between the beam boresight and the user [rad].

    θ_Mn of Li et al. eq. (1) computed in 3-D (SCIENCE.md §1, "Implementation (preferred)"): the
    angle between a = target − sat (boresight towards cell M's centre) and b = user − sat, as
    atan2(|a×b|, a·b), which stays accurate for tiny angles where arccos of the normalised dot
    product loses half the digits. Exact for any Earth shape.

    Args:
        sat_km: Satellite position(s), ``(3, ...)`` ECEF km.
        boresight_target_km: Boresight aim point(s) (cell centres), ``(3, ...)`` ECEF km.
        user_km: User position(s), ``(3, ...)`` ECEF km. The three broadcast together after the
            leading xyz axis (e.g. ``(3, n_sats, 1)``, ``(3, n_sats, 1)`` and ``(3, 1, n_points)``
            give ``(n_sats, n_points)``).

    Returns:
        θ in [0, π], float64, with the broadcast shape of the inputs minus the xyz axis. A user or
        target at the satellite itself gives 0 (not NaN).

    Raises:
        LinkParameterError: If an input does not have 3 components on its first axis.
    """
    sat = _xyz(sat_km, "sat_km")
    a = _xyz(boresight_target_km, "boresight_target_km") - sat
    b = _xyz(user_km, "user_km") - sat
    cx = a[1] * b[2] - a[2] * b[1]
    cy = a[2] * b[0] - a[0] * b[2]
    cz = a[0] * b[1] - a[1] * b[0]
    dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    angle: NDArray[np.float64] = np.arctan2(np.sqrt(cx * cx + cy * cy + cz * cz), dot)
    return angle


def _xyz(vectors_km: ArrayLike, name: str) -> NDArray[np.float64]:
    """Check that an array has the xyz-first shape ``(3, ...)`` and return it as float64."""
    array = np.asarray(vectors_km, dtype=np.float64)
    if array.ndim == 0 or array.shape[0] != 3:
        raise LinkParameterError(
            f"off_axis: {name} must be xyz-first with shape (3, ...), got shape {array.shape}"
        )
    return array


def off_axis_eq1(
    slant_range_cell_km: ArrayLike,
    slant_range_user_km: ArrayLike,
    ground_distance_km: ArrayLike,
    earth_radius_km: float = EARTH_RADIUS_KM,
) -> NDArray[np.float64]:
    """Off-axis angle θ_Mn from Li et al. eq. (1), the law of cosines on a spherical Earth [rad].

    ::

        θ_Mn = arccos{ [(d^s_o)² + (d^s_Mn)² − 2R²(1 − cos(d^o_Mn/R))] / (2·d^s_o·d^s_Mn) }

    with SCIENCE.md §1's correction: d^s_Mn is the slant range from the satellite to the user (the
    paper's "distance to the sub-satellite point" pushes the argument out of [−1, 1]).
    2R²(1 − cos(d/R)) = (2R·sin(d/2R))² is the squared chord between cell centre and user, computed
    in the sin form (no cancellation for small d). The angle is evaluated in the algebraically
    identical half-angle form sin²(θ/2) = [chord² − (d^s_o − d^s_Mn)²] / (4·d^s_o·d^s_Mn), which
    keeps full precision for small θ; clipping that to [0, 1] is the same as clipping the arccos
    argument to [−1, 1]. Exact only for points on a sphere of radius R; :func:`off_axis` is the
    general 3-D form.

    Args:
        slant_range_cell_km: d^s_o, satellite to cell-M centre [km].
        slant_range_user_km: d^s_Mn, satellite to user (M, n) [km].
        ground_distance_km: d^o_Mn, great-circle distance cell centre to user [km].
        earth_radius_km: R [km].

    Returns:
        θ_Mn in [0, π], float64, broadcast shape of the inputs.
    """
    d_o = np.asarray(slant_range_cell_km, dtype=np.float64)
    d_u = np.asarray(slant_range_user_km, dtype=np.float64)
    chord = (
        2.0
        * earth_radius_km
        * np.sin(np.asarray(ground_distance_km, dtype=np.float64) / (2.0 * earth_radius_km))
    )
    delta = d_o - d_u
    sin2_half = (chord - delta) * (chord + delta) / (4.0 * d_o * d_u)
    angle: NDArray[np.float64] = 2.0 * np.arcsin(np.sqrt(np.clip(sin2_half, 0.0, 1.0)))
    return angle


def free_space_loss(slant_range_km: ArrayLike, wavelength_m: float) -> NDArray[np.float64]:
    """Free-space path loss (4πd/λ)² (linear, ≥ 1 for d ≫ λ), the denominator of eq. (2)-(3).

    Li et al. eq. (2) prints ``(tπd/λ)²`` and eq. (4) ``(4πd/M)²``; both are (4πd/λ)² (SCIENCE.md
    §3.1).

    Args:
        slant_range_km: Slant range d [km], any shape.
        wavelength_m: Wavelength λ [m].

    Returns:
        (4πd/λ)², float64, same shape as ``slant_range_km``.
    """
    ratio = (4.0 * math.pi * _KM_TO_M / wavelength_m) * np.asarray(slant_range_km, dtype=np.float64)
    loss: NDArray[np.float64] = ratio * ratio
    return loss


def received_power_w(
    *,
    tx_power_w: ArrayLike,
    terminal_gain: ArrayLike,
    beam_gain: ArrayLike,
    slant_range_km: ArrayLike,
    wavelength_m: float,
    extra_loss: ArrayLike = 1.0,
) -> NDArray[np.float64]:
    """Received uplink power P_r(M, n) at the satellite [W], Li et al. eq. (2) (SCIENCE.md §3.1).

    ::

        P_r = p_n · g_n(α_n) · G_M(θ_{M,n}) / [ (4π·d_n/λ)² · f_n(α_n) ]

    Args:
        tx_power_w: p_n, user transmit power [W].
        terminal_gain: g_n(α_n), user-terminal gain towards the satellite (linear).
        beam_gain: G_M(θ_{M,n}), satellite beam M's gain towards the user (linear, INCLUDING G_max).
        slant_range_km: d_n, user to satellite [km].
        wavelength_m: λ [m].
        extra_loss: f_n(α_n), extra loss (atmosphere, rain, shadowing) as a linear factor that
            divides; normally ≥ 1, but any positive value is accepted so that a zero-mean
            log-normal shadowing draw (:func:`satellite.losses.shadowing_loss`) may be a fade-up.

    Returns:
        P_r [W], float64, broadcast shape of the inputs.

    Raises:
        LinkParameterError: If any ``extra_loss`` is not positive.
    """
    loss = _positive_loss(extra_loss, "received_power_w")
    power: NDArray[np.float64] = (
        np.asarray(tx_power_w, dtype=np.float64)
        * np.asarray(terminal_gain, dtype=np.float64)
        * np.asarray(beam_gain, dtype=np.float64)
        / (free_space_loss(slant_range_km, wavelength_m) * loss)
    )
    return power


def co_channel_interference_w(
    *,
    activity: ArrayLike,
    polarization_isolation: ArrayLike,
    tx_power_w: ArrayLike,
    terminal_gain: ArrayLike,
    beam_gain: ArrayLike,
    slant_range_km: ArrayLike,
    wavelength_m: float,
    extra_loss: ArrayLike = 1.0,
    present: ArrayLike | None = None,
    axis: int = -1,
) -> NDArray[np.float64]:
    """Co-channel interference I_M into victim beam M [W], Li et al. eq. (3) (SCIENCE.md §3.1).

    ::

        I_M = Σ_{c ∈ co-channel(M)} μ_c·ρ^M_U·p_c·g_c(α_c)·G_M(θ_{M,c}) / [(4π·d_c/λ)²·f_c(α_c)]

    The sum runs over ``axis`` (the interferer axis) after broadcasting all arguments.

    ``beam_gain`` should be the VICTIM beam M's gain towards interferer c, G_M(θ_{M,c}) with θ_{M,c}
    from eq. (1) with cell M's centre and user c: this is the physical form (SCIENCE.md §3.1
    correction). The paper prints G_U(θ^U_c), the interferer's own serving-beam gain; to reproduce
    that paper-literal form, pass G_U(θ^U_c) instead (inter-beam discrimination is then lost).

    Args:
        activity: μ_c ∈ [0, 1], activity factor (expected weight, or a Bernoulli(μ) draw).
        polarization_isolation: ρ^M_U ∈ [0, 1] (see :func:`polarization_isolation`).
        tx_power_w: p_c, interferer transmit power [W].
        terminal_gain: g_c(α_c), interferer terminal gain towards the satellite (linear).
        beam_gain: G_M(θ_{M,c}) (linear, including G_max); see above.
        slant_range_km: d_c, interferer to satellite [km].
        wavelength_m: λ [m].
        extra_loss: f_c(α_c), linear loss > 0 that divides.
        present: Optional bool mask (broadcastable); False entries (padding of ragged interferer
            lists) contribute exactly 0 even where the other arrays hold NaN or zeros.
        axis: The interferer axis to sum over.

    Returns:
        I_M [W], float64, broadcast shape with ``axis`` removed.

    Raises:
        LinkParameterError: If a present entry's ``extra_loss`` is not positive.
    """
    arrays = [
        np.asarray(x, dtype=np.float64)
        for x in (activity, polarization_isolation, tx_power_w, terminal_gain, beam_gain)
    ]
    numerator = arrays[0] * arrays[1] * arrays[2] * arrays[3] * arrays[4]
    loss = np.asarray(extra_loss, dtype=np.float64)
    if present is None:
        _positive_loss(loss, "co_channel_interference_w")
        terms = numerator / (free_space_loss(slant_range_km, wavelength_m) * loss)
    else:
        mask = np.asarray(present, dtype=np.bool_)
        _positive_loss(np.where(mask, loss, 1.0), "co_channel_interference_w")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            terms = numerator / (free_space_loss(slant_range_km, wavelength_m) * loss)
        terms = np.where(mask, terms, 0.0)
    interference: NDArray[np.float64] = np.sum(terms, axis=axis)
    return interference


def _positive_loss(extra_loss: ArrayLike, where: str) -> NDArray[np.float64]:
    """Return the loss as float64 after checking every entry is > 0 (NaN passes through)."""
    loss = np.asarray(extra_loss, dtype=np.float64)
    if np.any(loss <= 0.0):
        raise LinkParameterError(f"{where}: extra_loss must be > 0 (a linear loss that divides)")
    return loss


def noise_power_w(system_temperature_k: ArrayLike, bandwidth_hz: ArrayLike) -> NDArray[np.float64]:
    """Thermal noise power N0·B = k_B·T_sys·B [W] (eq. (4) denominator, SCIENCE.md §2.2).

    Args:
        system_temperature_k: T_sys [K].
        bandwidth_hz: B [Hz]: the bandwidth the signal power of eq. (2) is spread over.

    Returns:
        N0·B [W], float64, broadcast shape.
    """
    noise: NDArray[np.float64] = (
        BOLTZMANN_J_PER_K
        * np.asarray(system_temperature_k, dtype=np.float64)
        * np.asarray(bandwidth_hz, dtype=np.float64)
    )
    return noise


def system_temperature_from_g_over_t_k(max_gain_dbi: float, g_over_t_db_per_k: float) -> float:
    """Receiver system temperature T = 10^((G_max − G/T)/10) [K] (SCIENCE.md §2.2).

    E.g. TR 38.821 Set-1 LEO Ka: 38.5 dBi and 13 dB/K give ≈ 355 K.

    Args:
        max_gain_dbi: Receive antenna peak gain G_max [dBi].
        g_over_t_db_per_k: Figure of merit G/T [dB/K].

    Returns:
        T_sys [K].
    """
    return float(10.0 ** ((max_gain_dbi - g_over_t_db_per_k) / 10.0))


def sinr(
    received_power_w: ArrayLike, interference_w: ArrayLike, noise_power_w: ArrayLike
) -> NDArray[np.float64]:
    """SINR γ = P_r / (I + N0·B), the argument of Li et al. eq. (4) (linear).

    All three must refer to the same bandwidth B (SCIENCE.md §3.1: "capacity with unit bandwidth"
    means powers and N0 are both either in B or per Hz).

    Args:
        received_power_w: P_r from eq. (2) [W].
        interference_w: I from eq. (3) [W].
        noise_power_w: N0·B [W] (see :func:`noise_power_w`).

    Returns:
        γ (linear), float64, broadcast shape.
    """
    ratio: NDArray[np.float64] = np.asarray(received_power_w, dtype=np.float64) / (
        np.asarray(interference_w, dtype=np.float64) + np.asarray(noise_power_w, dtype=np.float64)
    )
    return ratio


def capacity_bps_per_hz(sinr: ArrayLike) -> NDArray[np.float64]:
    """Shannon spectral efficiency C = log2(1 + γ) [bit/s/Hz], Li et al. eq. (4); the rate is B·C.

    Computed as log1p(γ)/ln 2 (accurate for small γ).

    Args:
        sinr: γ (linear), any shape, ≥ 0.

    Returns:
        C [bit/s/Hz], float64, same shape.
    """
    capacity: NDArray[np.float64] = np.log1p(np.asarray(sinr, dtype=np.float64)) / _LN2
    return capacity


def polarization_isolation(
    polarization_victim: ArrayLike, polarization_interferer: ArrayLike, xpd_db: float
) -> NDArray[np.float64]:
    """Polarisation isolation factor ρ^M_U of Li et al. eq. (3) (SCIENCE.md §3.1-3.2).

    1 where the two polarisations are equal, 10^(−XPD/10) where they differ (orthogonal, e.g. RHCP
    vs LHCP in 3GPP FR4, polarisation = colour % 2). Interferers on a different sub-band are not
    co-channel and must be excluded by the caller (ρ = 0 there).

    Args:
        polarization_victim: Polarisation labels of the victim beam(s) (ints, strings...).
        polarization_interferer: Polarisation labels of the interferers; broadcast with the victim.
        xpd_db: Cross-polarisation discrimination XPD [dB], ≥ 0 (Starlink C/XPI ≈ 22 dB).

    Returns:
        ρ, float64, broadcast shape.

    Raises:
        LinkParameterError: If ``xpd_db`` is negative.
    """
    if not xpd_db >= 0.0:
        raise LinkParameterError(f"polarization_isolation: xpd_db must be >= 0, got {xpd_db!r}")
    same = np.asarray(polarization_victim) == np.asarray(polarization_interferer)
    rho: NDArray[np.float64] = np.where(same, 1.0, 10.0 ** (-xpd_db / 10.0))
    return rho
