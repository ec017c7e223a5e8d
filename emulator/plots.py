"""Plots of a coverage run: the map of cells, tracks and users, and the SINR distribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from numpy.typing import NDArray

from satellite.arrays import FloatArray
from satellite.cells import CellGrid
from satellite.geodesy import azimuthal_equidistant_inverse, destination, geodetic_from_itrs
from satellite.ground import GroundPoints


def hexagon_outlines(cells: CellGrid) -> FloatArray:
    """Vertices (lon, lat) of every cell's hexagon, (C, 6, 2), pointy-top like the lattice."""
    angles_rad = np.radians(30.0 + 60.0 * np.arange(6))
    x_km = cells.x_km[:, None] + cells.cell_radius_km * np.cos(angles_rad)[None, :]
    y_km = cells.y_km[:, None] + cells.cell_radius_km * np.sin(angles_rad)[None, :]
    lat_deg, lon_deg = azimuthal_equidistant_inverse(
        cells.centre_lat_deg, cells.centre_lon_deg, x_km, y_km
    )
    return np.stack([lon_deg, lat_deg], axis=-1)


def coverage_map(
    path: Path,
    *,
    title: str,
    cells: CellGrid,
    cell_colour: NDArray[np.int64],
    reuse: int,
    users: GroundPoints,
    user_sinr_db: FloatArray,
    track_itrs_km: FloatArray,
    track_names: list[str],
    region_radius_km: float,
) -> None:
    """Satellite ground tracks, beam cells by reuse colour and users by mean SINR, over the region.

    Tracks end in a triangle at the satellite's last position; the dashed circle is the region.

    Args:
        path: PNG to write.
        title: Figure title.
        cells: The region's cells.
        cell_colour: Reuse colour of each cell.
        reuse: Reuse factor (for the legend).
        users: The users.
        user_sinr_db: Each user's mean SINR over the run (NaN: never covered).
        track_itrs_km: Positions of the satellites that served the region, (3, S, T).
        track_names: Their names.
        region_radius_km: Radius of the region, drawn as its boundary.
    """
    figure = Figure(figsize=(9.0, 7.5), layout="constrained")
    axes = figure.add_subplot()
    palette = np.array(
        ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69"]
    )
    polygons = PolyCollection(
        list(hexagon_outlines(cells)),
        facecolors=palette[cell_colour % len(palette)],
        edgecolors="#666666",
        linewidths=0.3,
        alpha=0.45,
    )
    axes.add_collection(polygons)
    lat_deg, lon_deg, _ = geodetic_from_itrs(track_itrs_km)
    for k, name in enumerate(track_names):
        lon_track = np.unwrap(lon_deg[k], period=360.0)
        axes.plot(lon_track, lat_deg[k], color="#444444", linewidth=0.7, alpha=0.7)
        axes.plot(lon_track[-1], lat_deg[k][-1], marker="^", markersize=4, color="#444444")
        axes.annotate(name, (lon_track[-1], lat_deg[k][-1]), fontsize=5, color="#444444")
    bearing_deg = np.linspace(0.0, 360.0, 181)
    edge_lat_deg, edge_lon_deg = destination(
        cells.centre_lat_deg, cells.centre_lon_deg, bearing_deg, region_radius_km
    )
    axes.plot(edge_lon_deg, edge_lat_deg, color="black", linewidth=1.0, linestyle="--")
    covered = np.isfinite(user_sinr_db)
    axes.scatter(
        users.lon_deg[~covered],
        users.lat_deg[~covered],
        marker="x",
        s=10,
        c="black",
        linewidths=0.6,
        label="never covered",
    )
    points = axes.scatter(
        users.lon_deg[covered],
        users.lat_deg[covered],
        c=user_sinr_db[covered],
        s=9,
        cmap="viridis",
        edgecolors="none",
        zorder=3,
    )
    figure.colorbar(points, ax=axes, label="user mean SINR (dB)")
    outline = hexagon_outlines(cells).reshape(-1, 2)
    margin = 0.15 * np.ptp(outline, axis=0) + 0.05
    axes.set_xlim(outline[:, 0].min() - margin[0], outline[:, 0].max() + margin[0])
    axes.set_ylim(outline[:, 1].min() - margin[1], outline[:, 1].max() + margin[1])
    axes.set_aspect(1.0 / np.cos(np.radians(cells.centre_lat_deg)))
    axes.set_xlabel("longitude (deg)")
    axes.set_ylabel("latitude (deg)")
    axes.set_title(f"{title}: {len(cells)} cells (reuse {reuse}), {len(users)} users")
    if (~covered).any():
        axes.legend(loc="lower right", fontsize=7)
    figure.savefig(path, dpi=150)


def sinr_cdf(path: Path, *, title: str, sinr_db: FloatArray, snr_db: FloatArray) -> None:
    """Empirical CDF of SINR over every covered user-step, beside the interference-free SNR."""
    figure = Figure(figsize=(7.0, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for values, label in ((sinr_db, "SINR (eq. 4)"), (snr_db, "SNR, no interference")):
        if values.size:
            ordered = np.sort(values)
            axes.step(
                ordered, np.arange(1, ordered.size + 1) / ordered.size, where="post", label=label
            )
    axes.set_xlabel("dB")
    axes.set_ylabel("fraction of covered user-steps")
    axes.set_ylim(0.0, 1.0)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title(title)
    figure.savefig(path, dpi=150)
