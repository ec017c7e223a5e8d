"""What a satellite's beams are made of: the pattern, reuse, power and noise of one beam.

A :class:`BeamPlan` bundles a link preset with the scenario's beam choices and turns them into the
linear quantities of Li et al. eq. (2)-(4): G_M(θ), g(α), B and N0·B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .antenna import bessel_beam_gain, tr38811_beam_gain
from .arrays import FloatArray
from .cells import subband_count
from .link import noise_power_w
from .presets import LinkPreset

BeamPattern = Literal["bessel", "tr38811"]
BEAM_PATTERNS: tuple[BeamPattern, ...] = ("bessel", "tr38811")


@dataclass(frozen=True, slots=True, kw_only=True)
class BeamPlan:
    """How the satellites lay their beams and what the links are made of.

    Attributes:
        preset: Link parameters (frequencies, gains, powers, temperatures).
        beams_per_satellite: N, the most cells one satellite serves at once.
        reuse: Frequency reuse factor (1, 3, 4 or 7; SCIENCE.md §3.2).
        pattern: Satellite beam pattern: "bessel" (SCIENCE.md §2.1a) or "tr38811" (§2.1b).
        min_elevation_deg: ε_min: a satellite serves a cell only above this elevation.
        interference_rings: Co-channel cells within this many hexagonal rings interfere.
        activity: μ in eq. (3), the probability that an interferer transmits.
        paper_literal: Use the interferer's own beam gain G_U(θ^U_c) in eq. (3) as printed,
            instead of the victim beam's gain G_M(θ_{M,c}) (SCIENCE.md §3.1 correction).
        shadowing_std_db: Standard deviation of log-normal shadowing per user and step.
    """

    preset: LinkPreset
    beams_per_satellite: int
    reuse: int
    pattern: BeamPattern = "bessel"
    min_elevation_deg: float
    interference_rings: int = 6
    activity: float = 1.0
    paper_literal: bool = False
    shadowing_std_db: float = 0.0

    @property
    def bandwidth_hz(self) -> float:
        """B: the bandwidth of one beam, the preset's channel split among the reuse sub-bands."""
        return self.preset.channel_bandwidth_hz / subband_count(self.reuse)

    @property
    def noise_power_w(self) -> float:
        """N0·B at the satellite receiver of one beam."""
        return float(noise_power_w(self.preset.satellite_system_temperature_k, self.bandwidth_hz))

    def beam_gain(self, off_axis_rad: FloatArray) -> FloatArray:
        """G_M(θ): linear satellite beam gain including G_max."""
        preset = self.preset
        if self.pattern == "bessel":
            normalised = bessel_beam_gain(off_axis_rad, preset.theta_3db_rad)
        else:
            normalised = tr38811_beam_gain(
                off_axis_rad, preset.aperture_radius_m, preset.wavelength_m
            )
        return preset.satellite_max_gain * normalised

    def terminal_gain(self, pointing_error_rad: FloatArray) -> FloatArray:
        """g(α): linear user-terminal gain at angle α from the direction the terminal points."""
        preset = self.preset
        if preset.terminal_theta_3db_deg is None:
            return np.full(np.shape(pointing_error_rad), preset.terminal_max_gain)
        theta_3db_rad = np.radians(preset.terminal_theta_3db_deg)
        return preset.terminal_max_gain * bessel_beam_gain(pointing_error_rad, float(theta_3db_rad))
