"""Earth-fixed hexagonal cells and their frequency reuse.

Layout (SCIENCE.md §3.3, Option B): cell centres sit on the tangent plane of a reference point g0 at
(x, y) = √3·R_c·(q + r/2, r·√3/2) for axial coordinates (q, r), and are mapped to the mean sphere
with the azimuthal-equidistant inverse (ground distance ρ = |(x, y)|, bearing atan2(x, y)). R_c is
the hexagon's circumradius; the centre spacing is s = √3·R_c.

Reuse (SCIENCE.md §3.2): colour c(q, r) = 0 (N = 1), (q − r) mod 3 (N = 3),
(q mod 2) + 2(r mod 2) (N = 4: 3GPP FR4, sub-band c // 2 × polarisation c % 2), (q + 3r) mod 7
(N = 7). Minimum co-channel distances are s, √3·s, 2·s, √7·s.

Shapes: positions are xyz-first, ``(3, C)``, in km, Earth-fixed ITRS; per-cell arrays are (C,);
satellite × cell arrays are (S, C).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from .arrays import FloatArray, IntArray
from .geodesy import (
    EARTH_MEAN_RADIUS_KM,
    azimuthal_equidistant,
    azimuthal_equidistant_inverse,
    itrs_from_geodetic,
)

REUSE_FACTORS: Final = (1, 3, 4, 7)
"""Supported frequency-reuse factors N (SCIENCE.md §3.2)."""
_SUBBANDS: Final = {1: 1, 3: 3, 4: 2, 7: 7}
_SQRT3: Final = float(np.sqrt(3.0))


def _check_reuse(reuse: int) -> None:
    if reuse not in REUSE_FACTORS:
        raise ValueError(f"reuse must be one of {REUSE_FACTORS}, got {reuse!r}")


def reuse_colour(q: ArrayLike, r: ArrayLike, reuse: int) -> IntArray:
    """Colour of hexagonal cells (q, r) for reuse factor N (SCIENCE.md §3.2 table).

    Args:
        q: Axial coordinate q.
        r: Axial coordinate r.
        reuse: N, one of :data:`REUSE_FACTORS`.

    Returns:
        Colours in [0, N), broadcast shape of q and r.

    Raises:
        ValueError: N not supported.
    """
    _check_reuse(reuse)
    q_arr, r_arr = np.broadcast_arrays(np.asarray(q, np.int64), np.asarray(r, np.int64))
    if reuse == 1:
        return np.zeros(q_arr.shape, dtype=np.int64)
    if reuse == 3:
        return np.asarray(np.mod(q_arr - r_arr, 3), dtype=np.int64)
    if reuse == 4:
        return np.asarray(np.mod(q_arr, 2) + 2 * np.mod(r_arr, 2), dtype=np.int64)
    return np.asarray(np.mod(q_arr + 3 * r_arr, 7), dtype=np.int64)


def subband_count(reuse: int) -> int:
    """Number of frequency sub-bands for reuse factor N: 1, 3, 2 (FR4: 2 × 2 polarisations), 7."""
    _check_reuse(reuse)
    return _SUBBANDS[reuse]


def subband_and_polarization(colour: ArrayLike, reuse: int) -> tuple[IntArray, IntArray]:
    """Sub-band and polarisation of a colour: FR4 → (c // 2, c % 2); otherwise (c, 0).

    Args:
        colour: Colours from :func:`reuse_colour`.
        reuse: N, one of :data:`REUSE_FACTORS`.

    Returns:
        ``(subband, polarization)`` int64 arrays (polarisation 0/1 = the two circular ones).
    """
    _check_reuse(reuse)
    c = np.asarray(colour, dtype=np.int64)
    if reuse == 4:
        return c // 2, c % 2
    return c.copy(), np.zeros_like(c)


def cell_radius_km(theta_3db_rad: float, altitude_km: float) -> float:
    """Cell radius R_c = h·tan θ_3dB: −3 dB at the cell edge for a nadir beam (SCIENCE.md §3.3).

    Args:
        theta_3db_rad: Half-power half-angle θ_3dB [rad].
        altitude_km: Satellite altitude h [km].

    Returns:
        R_c [km].
    """
    return float(altitude_km * np.tan(theta_3db_rad))


def _hex_distance(dq: IntArray, dr: IntArray) -> IntArray:
    distance: IntArray = np.maximum(np.maximum(np.abs(dq), np.abs(dr)), np.abs(dq + dr))
    return distance


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CellGrid:
    """Earth-fixed hexagonal cells about a reference point (SCIENCE.md §3.3, Option B).

    Build with :func:`hex_grid`. Cells are ordered by hex ring from the centre, then by (r, q).

    Attributes:
        centre_lat_deg: Latitude of the reference point g0 [deg].
        centre_lon_deg: Longitude of g0 [deg].
        cell_radius_km: Hexagon circumradius R_c [km].
        q: Axial coordinate q, (C,).
        r: Axial coordinate r, (C,).
        x_km: Tangent-plane east coordinate of each centre, (C,) [km].
        y_km: Tangent-plane north coordinate of each centre, (C,) [km].
        lat_deg: Centre latitude on the mean sphere, (C,) [deg].
        lon_deg: Centre longitude, (C,) [deg].
        position_itrs_km: Centre on the WGS84 ellipsoid (height 0), (3, C) [km].
    """

    centre_lat_deg: float
    centre_lon_deg: float
    cell_radius_km: float
    q: IntArray
    r: IntArray
    x_km: FloatArray
    y_km: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    position_itrs_km: FloatArray
    _origin: tuple[int, int] = field(init=False, repr=False)
    _lookup: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        size = self.q.shape
        for name in ("r", "x_km", "y_km", "lat_deg", "lon_deg"):
            if getattr(self, name).shape != size:
                raise ValueError(
                    f"CellGrid.{name} has shape {getattr(self, name).shape}, not {size}"
                )
        if self.position_itrs_km.shape != (3, *size):
            raise ValueError(f"CellGrid.position_itrs_km must be (3, {size[0]})")
        q_min = int(self.q.min(initial=0))
        r_min = int(self.r.min(initial=0))
        shape = (int(self.q.max(initial=0)) - q_min + 1, int(self.r.max(initial=0)) - r_min + 1)
        lookup = np.full(shape, -1, dtype=np.int64)
        lookup[self.q - q_min, self.r - r_min] = np.arange(self.q.size)
        object.__setattr__(self, "_origin", (q_min, r_min))
        object.__setattr__(self, "_lookup", lookup)

    def __len__(self) -> int:
        return int(self.q.size)

    @property
    def spacing_km(self) -> float:
        """Centre-to-centre spacing s = √3·R_c [km]."""
        return _SQRT3 * self.cell_radius_km

    def index_of(self, q: ArrayLike, r: ArrayLike) -> IntArray:
        """Index of the cell at axial (q, r), −1 where the hexagon is not in the grid."""
        q_arr, r_arr = np.broadcast_arrays(np.asarray(q, np.int64), np.asarray(r, np.int64))
        i = q_arr - self._origin[0]
        j = r_arr - self._origin[1]
        inside = (i >= 0) & (i < self._lookup.shape[0]) & (j >= 0) & (j < self._lookup.shape[1])
        index = np.full(q_arr.shape, -1, dtype=np.int64)
        index[inside] = self._lookup[i[inside], j[inside]]
        return index

    def colours(self, reuse: int) -> IntArray:
        """Reuse colour of every cell, (C,) (SCIENCE.md §3.2)."""
        return reuse_colour(self.q, self.r, reuse)

    def locate(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> IntArray:
        """Index of the cell containing each point (−1 outside the grid), O(P).

        The point is projected on the grid's tangent plane (azimuthal equidistant about g0),
        converted to fractional axial coordinates and cube-rounded to the nearest hexagon centre.

        Args:
            lat_deg: Point latitudes [deg].
            lon_deg: Point longitudes [deg].

        Returns:
            Cell indices, int64, shape of the broadcast inputs.
        """
        x, y = azimuthal_equidistant(self.centre_lat_deg, self.centre_lon_deg, lat_deg, lon_deg)
        spacing = self.spacing_km
        r_frac = y / (spacing * _SQRT3 / 2.0)
        q_frac = x / spacing - r_frac / 2.0
        s_frac = -q_frac - r_frac
        q_round, r_round, s_round = np.rint(q_frac), np.rint(r_frac), np.rint(s_frac)
        q_err, r_err, s_err = abs(q_round - q_frac), abs(r_round - r_frac), abs(s_round - s_frac)
        fix_q = (q_err > r_err) & (q_err > s_err)
        fix_r = ~fix_q & (r_err > s_err)
        q_round = np.where(fix_q, -r_round - s_round, q_round)
        r_round = np.where(fix_r, -q_round - s_round, r_round)
        limit = np.iinfo(np.int32).max
        finite = np.isfinite(q_round) & np.isfinite(r_round)
        q_int = np.clip(np.where(finite, q_round, limit), -limit, limit).astype(np.int64)
        r_int = np.clip(np.where(finite, r_round, limit), -limit, limit).astype(np.int64)
        return self.index_of(q_int, r_int)

    def co_channel_neighbours(self, reuse: int, rings: int) -> IntArray:
        """Other cells of the same sub-band within ``rings`` hex rings of each cell.

        For FR4 (N = 4) the orthogonal-polarisation colour of the same sub-band is included (its
        interference is weighted by ρ, SCIENCE.md §3.1). Because every colour formula is linear in
        (q, r) (over Z_N, or Z_2 × Z_2 for FR4), "same sub-band" depends only on the offset.

        Args:
            reuse: N, one of :data:`REUSE_FACTORS`.
            rings: Largest hex distance to a neighbour (≥ 0).

        Returns:
            (C, K) int64 cell indices, nearest rings first, padded at the end of each row with −1
            where the offset falls outside the grid; K is the same for every row.
        """
        _check_reuse(reuse)
        if rings < 0:
            raise ValueError(f"rings must be ≥ 0, got {rings}")
        span = np.arange(-rings, rings + 1)
        dq, dr = (a.ravel() for a in np.meshgrid(span, span, indexing="ij"))
        ring = _hex_distance(dq, dr)
        subband, _ = subband_and_polarization(reuse_colour(dq, dr, reuse), reuse)
        keep = (ring >= 1) & (ring <= rings) & (subband == 0)
        order = np.lexsort((dq[keep], dr[keep], ring[keep]))
        dq, dr = dq[keep][order], dr[keep][order]
        index = self.index_of(self.q[:, None] + dq, self.r[:, None] + dr)
        compact = np.argsort(index < 0, axis=1, kind="stable")
        return np.take_along_axis(index, compact, axis=1)

    def adjacency_graph(self, threshold_km: float) -> nx.Graph:
        """Graph of the cells with an edge where tangent-plane centre distance < threshold_km.

        Args:
            threshold_km: Distance threshold [km], e.g. 1.01·s for adjacency, 1.99·s for FR4.

        Returns:
            networkx Graph on nodes 0..C−1.
        """
        graph = nx.Graph()
        graph.add_nodes_from(range(len(self)))
        if len(self) > 1 and threshold_km > 0.0:
            xy = np.column_stack((self.x_km, self.y_km))
            pairs = cKDTree(xy).query_pairs(threshold_km, output_type="ndarray")
            distance = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
            graph.add_edges_from(pairs[distance < threshold_km].tolist())
        return graph


def hex_grid(
    *,
    centre_lat_deg: float,
    centre_lon_deg: float,
    region_radius_km: float,
    cell_radius_km: float,
) -> CellGrid:
    """Hexagonal cells covering a circular region (SCIENCE.md §3.3, Option B).

    Every cell whose tangent-plane centre lies within region_radius_km + cell_radius_km of the
    reference point is kept, so each point of the region lies in some cell.

    Args:
        centre_lat_deg: Latitude of the reference point g0 [deg].
        centre_lon_deg: Longitude of g0 [deg].
        region_radius_km: Radius of the region to cover, along the ground [km].
        cell_radius_km: Hexagon circumradius R_c [km] (see :func:`cell_radius_km`).

    Returns:
        The grid.

    Raises:
        ValueError: A radius is not positive (or too large), or the latitude is out of range.
    """
    if not abs(centre_lat_deg) <= 90.0:
        raise ValueError(f"centre_lat_deg must lie in [-90, 90], got {centre_lat_deg}")
    if not np.isfinite(centre_lon_deg):
        raise ValueError(f"centre_lon_deg must be finite, got {centre_lon_deg}")
    if not cell_radius_km > 0.0:
        raise ValueError(f"cell_radius_km must be > 0, got {cell_radius_km}")
    if not region_radius_km > 0.0:
        raise ValueError(f"region_radius_km must be > 0, got {region_radius_km}")
    if not region_radius_km + cell_radius_km < np.pi * EARTH_MEAN_RADIUS_KM / 2.0:
        raise ValueError(
            "region_radius_km + cell_radius_km must be below a quarter of the Earth's"
            f" circumference (10,007 km), got {region_radius_km} + {cell_radius_km}"
        )
    spacing = _SQRT3 * cell_radius_km
    reach = region_radius_km + cell_radius_km
    rings = int(np.ceil(reach / (spacing * _SQRT3 / 2.0))) + 1
    span = np.arange(-rings, rings + 1, dtype=np.int64)
    q, r = (a.ravel() for a in np.meshgrid(span, span, indexing="ij"))
    x = spacing * (q + r / 2.0)
    y = spacing * (r * _SQRT3 / 2.0)
    keep = np.hypot(x, y) <= reach
    q, r, x, y = q[keep], r[keep], x[keep], y[keep]
    order = np.lexsort((q, r, _hex_distance(q, r)))
    q, r, x, y = q[order], r[order], x[order], y[order]
    lat, lon = azimuthal_equidistant_inverse(centre_lat_deg, centre_lon_deg, x, y)
    return CellGrid(
        centre_lat_deg=float(centre_lat_deg),
        centre_lon_deg=float(centre_lon_deg),
        cell_radius_km=float(cell_radius_km),
        q=q,
        r=r,
        x_km=x,
        y_km=y,
        lat_deg=lat,
        lon_deg=lon,
        position_itrs_km=itrs_from_geodetic(lat, lon, 0.0),
    )
