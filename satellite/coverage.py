"""Multibeam coverage at one time step: serving beams, gains, interference, SINR, capacity.

This is what a beam controller calls every few emulated seconds: Li et al. eq. (1)-(4) evaluated
for every user of a region whose Earth-fixed hexagonal cells (SCIENCE.md §3.3, Option B) are
served by the satellites overhead. The link is the paper's uplink: user n in cell M transmits to
the satellite whose beam M points at the centre of cell M; the scheduled users of the other cells
of the same sub-band interfere with it (eq. (3)).

Shapes: vectors are xyz-first in km, Earth-fixed (ITRS); one time step, so satellites are
``(3, S)``, cells ``(3, C)`` and users ``(3, P)``. Co-channel neighbours are ``(C, K)``, padded
with -1.

Beams: a satellite points its N beams only at cells with users (as a beam-hopping payload does),
highest elevation first; each such cell is served by one satellite.

Scheduling: each cell serves one user per time step, round-robin over the users located in it
(user ``step_index mod n`` of the cell, in user order). That user is the cell's interferer towards
the other beams of its sub-band; a cell with no user transmits nothing. Every user's SINR is the
one it gets when it is the scheduled user of its cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .antenna import to_db
from .arrays import BoolArray, FloatArray, IntArray
from .beamplan import BeamPlan
from .cells import CellGrid, subband_and_polarization
from .ground import GroundPoints, candidate_satellites, sin_elevation
from .link import (
    capacity_bps_per_hz,
    co_channel_interference_w,
    off_axis,
    polarization_isolation,
    received_power_w,
    sinr,
)
from .losses import atmospheric_loss, shadowing_loss
from .serving import assign_serving


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageSnapshot:
    """Eq. (1)-(4) for every user and cell at one time step.

    Per-user arrays have length P; a user outside every served cell has satellite and beam -1 and
    NaN in the float fields. Per-cell arrays have length C.
    """

    user_cell: IntArray
    user_satellite: IntArray
    user_beam: IntArray
    user_colour: IntArray
    elevation_deg: FloatArray
    off_axis_deg: FloatArray
    beam_gain_dbi: FloatArray
    slant_range_km: FloatArray
    received_power_w: FloatArray
    interference_w: FloatArray
    sinr: FloatArray
    capacity_bps_per_hz: FloatArray
    cell_satellite: IntArray
    cell_beam: IntArray
    cell_scheduled_user: IntArray
    noise_power_w: float

    @property
    def covered(self) -> BoolArray:
        """Users served by a beam at this step."""
        return self.user_satellite >= 0

    @property
    def sinr_db(self) -> FloatArray:
        """γ in dB (NaN for users not covered)."""
        return to_db(self.sinr)


class CoverageModel:
    """The static part of the coverage problem: cells, users located in them, co-channel sets.

    Build it once per region; call :meth:`step` with the satellites' positions at each time.
    """

    def __init__(self, *, cells: CellGrid, users: GroundPoints, plan: BeamPlan) -> None:
        self.cells = cells
        self.users = users
        self.plan = plan
        self.cell_colour: IntArray = cells.colours(plan.reuse)
        _, self.cell_polarization = subband_and_polarization(self.cell_colour, plan.reuse)
        self.neighbours: IntArray = cells.co_channel_neighbours(plan.reuse, plan.interference_rings)
        self.user_cell: IntArray = cells.locate(users.lat_deg, users.lon_deg)
        located = np.flatnonzero(self.user_cell >= 0)
        self._users_by_cell = located[np.argsort(self.user_cell[located], kind="stable")]
        self._cell_user_count = np.bincount(self.user_cell[located], minlength=len(cells))
        self._cell_first_user = np.cumsum(self._cell_user_count) - self._cell_user_count
        self._demand_cells = np.flatnonzero(self._cell_user_count > 0)
        self._demand_points = GroundPoints.from_arrays(
            cells.lat_deg[self._demand_cells], cells.lon_deg[self._demand_cells]
        )

    def scheduled_users(self, step_index: int) -> IntArray:
        """The user each cell serves at this step (round-robin), or -1 for a cell without users."""
        count = self._cell_user_count
        has_users = count > 0
        slot = self._cell_first_user[has_users] + step_index % count[has_users]
        scheduled = np.full(len(self.cells), -1, dtype=np.int64)
        scheduled[has_users] = self._users_by_cell[slot]
        return scheduled

    def serving(self, sat_itrs_km: FloatArray, valid: BoolArray) -> tuple[IntArray, IntArray]:
        """Serving satellite and beam of every cell with users (highest elevation first, N each).

        Beams point only at cells with demand (users located in them), as a beam-hopping payload
        does; cells without users get satellite and beam -1.
        """
        cell_satellite = np.full(len(self.cells), -1, dtype=np.int64)
        cell_beam = np.full(len(self.cells), -1, dtype=np.int64)
        near = candidate_satellites(sat_itrs_km, self._demand_points, self.plan.min_elevation_deg)
        candidates = np.flatnonzero(near & valid)
        if candidates.size == 0 or self._demand_cells.size == 0:
            return cell_satellite, cell_beam
        sin_el = sin_elevation(sat_itrs_km[:, candidates], self._demand_points)
        elevation_deg = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
        chosen, beam = assign_serving(
            elevation_deg,
            min_elevation_deg=self.plan.min_elevation_deg,
            beams_per_satellite=self.plan.beams_per_satellite,
        )
        served = chosen >= 0
        cell_satellite[self._demand_cells[served]] = candidates[chosen[served]]
        cell_beam[self._demand_cells[served]] = beam[served]
        return cell_satellite, cell_beam

    def step(
        self,
        sat_itrs_km: FloatArray,
        valid: BoolArray | None = None,
        *,
        step_index: int = 0,
        rng: np.random.Generator | None = None,
        tx_power_w: FloatArray | None = None,
    ) -> CoverageSnapshot:
        """Eq. (1)-(4) for every user at one time.

        Args:
            sat_itrs_km: Satellite positions, (3, S), Earth-fixed.
            valid: Satellites whose propagation succeeded, (S,); NaN positions are invalid anyway.
            step_index: Time-step number, which drives the round-robin scheduling in each cell.
            rng: Source of shadowing draws; required when ``shadowing_std_db > 0``.
            tx_power_w: p: transmit power of each user, (P,); default the preset's terminal power.
        """
        plan = self.plan
        finite = np.all(np.isfinite(sat_itrs_km), axis=0)
        valid = finite if valid is None else (valid & finite)
        cell_satellite, cell_beam = self.serving(sat_itrs_km, valid)
        scheduled = self.scheduled_users(step_index)
        n_users = len(self.users)
        if tx_power_w is None:
            tx_power_w = np.full(n_users, plan.preset.terminal_tx_power_w)
        if plan.shadowing_std_db > 0 and rng is None:
            raise ValueError("shadowing_std_db > 0 needs an rng (numpy.random.Generator)")
        shadowing = (
            shadowing_loss(rng, (n_users,), plan.shadowing_std_db)
            if rng is not None
            else np.ones(n_users)
        )
        links = _Links(self, sat_itrs_km, cell_satellite, shadowing, tx_power_w)
        cell_interference_w = self._interference_w(links, scheduled)

        user_satellite = np.where(self.user_cell >= 0, cell_satellite[self.user_cell], -1)
        covered = np.flatnonzero(user_satellite >= 0)
        cell = self.user_cell[covered]
        own = links.evaluate(
            victim_cell=cell,
            transmitting_user=covered,
            gain_cell=cell,
            gain_satellite=user_satellite[covered],
        )
        interference_w = cell_interference_w[cell]
        gamma = sinr(own.received_power_w, interference_w, plan.noise_power_w)

        def per_user(values: FloatArray) -> FloatArray:
            full = np.full(n_users, np.nan)
            full[covered] = values
            return full

        return CoverageSnapshot(
            user_cell=self.user_cell,
            user_satellite=user_satellite,
            user_beam=np.where(user_satellite >= 0, cell_beam[self.user_cell], -1),
            user_colour=np.where(self.user_cell >= 0, self.cell_colour[self.user_cell], -1),
            elevation_deg=per_user(own.elevation_deg),
            off_axis_deg=per_user(np.degrees(own.off_axis_rad)),
            beam_gain_dbi=per_user(to_db(own.beam_gain)),
            slant_range_km=per_user(own.slant_range_km),
            received_power_w=per_user(own.received_power_w),
            interference_w=per_user(interference_w),
            sinr=per_user(gamma),
            capacity_bps_per_hz=per_user(capacity_bps_per_hz(gamma)),
            cell_satellite=cell_satellite,
            cell_beam=cell_beam,
            cell_scheduled_user=scheduled,
            noise_power_w=plan.noise_power_w,
        )

    def _interference_w(self, links: _Links, scheduled: IntArray) -> FloatArray:
        """I_M of eq. (3) for every cell: the scheduled users of its co-channel cells.

        Victim beam M (cell M, its satellite s_M) hears the user c scheduled in each co-channel
        cell U within the interference rings, if U is served (c transmits only then) and c is
        above s_M's horizon. Gain: G_M(θ_{M,c}), or G_U(θ^U_c) when ``paper_literal``.
        """
        plan = self.plan
        interference_w = np.zeros(len(self.cells))
        victims = np.flatnonzero((links.cell_satellite >= 0) & (scheduled >= 0))
        if victims.size == 0 or self.neighbours.shape[1] == 0:
            return interference_w
        neighbour = self.neighbours[victims]
        present = neighbour >= 0
        safe = np.where(present, neighbour, 0)
        present &= (scheduled[safe] >= 0) & (links.cell_satellite[safe] >= 0)
        row, column = np.nonzero(present)
        victim = victims[row]
        source_cell = neighbour[row, column]
        interferer = scheduled[source_cell]
        gain_cell = source_cell if plan.paper_literal else victim
        pairs = links.evaluate(
            victim_cell=victim,
            transmitting_user=interferer,
            gain_cell=gain_cell,
            gain_satellite=links.cell_satellite[gain_cell],
        )
        rho = polarization_isolation(
            self.cell_polarization[victim], self.cell_polarization[source_cell], plan.preset.xpd_db
        )
        per_pair_w = co_channel_interference_w(
            activity=plan.activity,
            polarization_isolation=rho[:, None],
            tx_power_w=links.tx_power_w[interferer][:, None],
            terminal_gain=pairs.terminal_gain[:, None],
            beam_gain=pairs.beam_gain[:, None],
            slant_range_km=pairs.slant_range_km[:, None],
            wavelength_m=plan.preset.wavelength_m,
            extra_loss=pairs.extra_loss[:, None],
            present=(pairs.elevation_deg > 0.0)[:, None],
            axis=-1,
        )
        interference_w += np.bincount(victim, weights=per_pair_w, minlength=len(self.cells))
        return interference_w


@dataclass(frozen=True, slots=True, kw_only=True)
class _Path:
    """One transmitter → satellite path of eq. (2)/(3), element-wise over any index shape."""

    elevation_deg: FloatArray
    slant_range_km: FloatArray
    off_axis_rad: FloatArray
    beam_gain: FloatArray
    terminal_gain: FloatArray
    extra_loss: FloatArray
    received_power_w: FloatArray


class _Links:
    """Geometry shared by the wanted links and the interference links of one time step."""

    def __init__(
        self,
        model: CoverageModel,
        sat_itrs_km: FloatArray,
        cell_satellite: IntArray,
        shadowing: FloatArray,
        tx_power_w: FloatArray,
    ) -> None:
        self.model = model
        self.sat_itrs_km = sat_itrs_km
        self.cell_satellite = cell_satellite
        self.shadowing = shadowing
        self.tx_power_w = tx_power_w

    def evaluate(
        self,
        *,
        victim_cell: IntArray,
        transmitting_user: IntArray,
        gain_cell: IntArray,
        gain_satellite: IntArray,
    ) -> _Path:
        """Path from a user to the satellite serving ``victim_cell``.

        The satellite's gain is that of the beam pointing at ``gain_cell`` from ``gain_satellite``
        (the victim beam itself, or the interferer's own beam in the paper-literal form). The
        terminal points at the satellite serving its own cell; its gain falls off by the angle
        between that satellite and the receiving one.
        """
        model, plan = self.model, self.model.plan
        receiver = self.sat_itrs_km[:, self.cell_satellite[victim_cell]]
        user = model.users.position_itrs_km[:, transmitting_user]
        to_receiver = receiver - user
        slant_range_km = np.linalg.norm(to_receiver, axis=0)
        up = model.users.up[:, transmitting_user]
        sin_el = np.einsum("i...,i...->...", to_receiver, up) / slant_range_km
        elevation_deg = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
        gain_satellite_km = self.sat_itrs_km[:, gain_satellite]
        theta_rad = off_axis(gain_satellite_km, model.cells.position_itrs_km[:, gain_cell], user)
        beam_gain = plan.beam_gain(theta_rad)
        own_cell = model.user_cell[transmitting_user]
        own_satellite_km = self.sat_itrs_km[:, self.cell_satellite[own_cell]]
        terminal_gain = plan.terminal_gain(off_axis(user, own_satellite_km, receiver))
        extra_loss = (
            atmospheric_loss(elevation_deg, plan.preset.atmospheric_zenith_loss_db)
            * self.shadowing[transmitting_user]
        )
        power_w = received_power_w(
            tx_power_w=self.tx_power_w[transmitting_user],
            terminal_gain=terminal_gain,
            beam_gain=beam_gain,
            slant_range_km=slant_range_km,
            wavelength_m=plan.preset.wavelength_m,
            extra_loss=extra_loss,
        )
        return _Path(
            elevation_deg=elevation_deg,
            slant_range_km=slant_range_km,
            off_axis_rad=theta_rad,
            beam_gain=beam_gain,
            terminal_gain=terminal_gain,
            extra_loss=extra_loss,
            received_power_w=power_w,
        )
