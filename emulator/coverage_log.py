"""``coverage.csv``: one row per (time step, user), and the statistics the summary reports."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from satellite.coverage import CoverageSnapshot
from satellite.ground import GroundPoints

COLUMNS = (
    ("time_utc", "ISO-8601 UTC"),
    ("user", "index"),
    ("user_lat_deg", "deg"),
    ("user_lon_deg", "deg"),
    ("satellite", "TLE name"),
    ("beam", "index"),
    ("colour", "reuse colour"),
    ("elevation_deg", "deg"),
    ("off_axis_deg", "deg"),
    ("gain_dbi", "dBi"),
    ("sinr_db", "dB"),
    ("capacity_bps_per_hz", "bit/s/Hz"),
)


def _fixed(values: NDArray[np.float64], decimals: int) -> list[str]:
    """Numbers as text with a fixed number of decimals; NaN (not covered) as an empty field."""
    text = np.char.mod(f"%.{decimals}f", np.nan_to_num(values))
    return [("" if np.isnan(v) else t) for v, t in zip(values.tolist(), text.tolist(), strict=True)]


class CoverageLog:
    """Writes coverage.csv as the run goes: a header of names, a row of units, then the data."""

    def __init__(self, path: Path, users: GroundPoints, satellite_names: tuple[str, ...]) -> None:
        self.path = path
        self._file = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow([name for name, _ in COLUMNS])
        self._writer.writerow([unit for _, unit in COLUMNS])
        self._names = np.array(("", *satellite_names), dtype=object)
        self._user_ids = [str(i) for i in range(len(users))]
        self._lat = _fixed(users.lat_deg, 5)
        self._lon = _fixed(users.lon_deg, 5)

    def write(self, time_utc: str, snapshot: CoverageSnapshot) -> None:
        """Append the rows of one time step."""
        satellite = self._names[snapshot.user_satellite + 1]
        covered = snapshot.covered
        beam = np.where(covered, snapshot.user_beam, -1).astype(str)
        beam[~covered] = ""
        colour = snapshot.user_colour.astype(str)
        colour[snapshot.user_colour < 0] = ""
        columns = (
            [time_utc] * len(self._user_ids),
            self._user_ids,
            self._lat,
            self._lon,
            satellite.tolist(),
            beam.tolist(),
            colour.tolist(),
            _fixed(snapshot.elevation_deg, 3),
            _fixed(snapshot.off_axis_deg, 4),
            _fixed(snapshot.beam_gain_dbi, 2),
            _fixed(snapshot.sinr_db, 2),
            _fixed(snapshot.capacity_bps_per_hz, 4),
        )
        self._writer.writerows(zip(*columns, strict=True))

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()

    def __enter__(self) -> CoverageLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class CoverageStats:
    """Running statistics over the steps of a run, for the summary and the plots."""

    n_users: int
    steps: int = 0
    user_steps_covered: int = 0
    serving_satellites: list[int] = field(default_factory=list)
    visible_satellites: list[int] = field(default_factory=list)
    sinr_db: list[NDArray[np.float64]] = field(default_factory=list)
    snr_db: list[NDArray[np.float64]] = field(default_factory=list)
    capacity: list[NDArray[np.float64]] = field(default_factory=list)
    served_satellites: set[int] = field(default_factory=set)
    user_sinr_db_sum: NDArray[np.float64] | None = None
    user_sinr_count: NDArray[np.int64] | None = None

    def add(self, snapshot: CoverageSnapshot, visible_satellites: int) -> None:
        """Account for one time step."""
        covered = snapshot.covered
        self.steps += 1
        self.user_steps_covered += int(covered.sum())
        serving = np.unique(snapshot.cell_satellite[snapshot.cell_satellite >= 0])
        self.serving_satellites.append(int(serving.size))
        self.served_satellites.update(serving.tolist())
        self.visible_satellites.append(visible_satellites)
        sinr_db = snapshot.sinr_db[covered]
        self.sinr_db.append(sinr_db)
        snr = snapshot.received_power_w[covered] / snapshot.noise_power_w
        self.snr_db.append(10.0 * np.log10(snr))
        self.capacity.append(snapshot.capacity_bps_per_hz[covered])
        if self.user_sinr_db_sum is None or self.user_sinr_count is None:
            self.user_sinr_db_sum = np.zeros(self.n_users)
            self.user_sinr_count = np.zeros(self.n_users, dtype=np.int64)
        self.user_sinr_db_sum[covered] += sinr_db
        self.user_sinr_count[covered] += 1

    def all_sinr_db(self) -> NDArray[np.float64]:
        """SINR of every covered user-step, dB."""
        return np.concatenate(self.sinr_db) if self.sinr_db else np.empty(0)

    def all_snr_db(self) -> NDArray[np.float64]:
        """SNR (no interference) of every covered user-step, dB."""
        return np.concatenate(self.snr_db) if self.snr_db else np.empty(0)

    def user_mean_sinr_db(self) -> NDArray[np.float64]:
        """Each user's mean SINR over the steps it was covered (NaN if never)."""
        if self.user_sinr_db_sum is None or self.user_sinr_count is None:
            return np.full(self.n_users, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.user_sinr_db_sum / self.user_sinr_count

    def summary(self) -> dict[str, float | int | None]:
        """Headline figures of the run."""
        sinr_db = self.all_sinr_db()
        capacity = np.concatenate(self.capacity) if self.capacity else np.empty(0)

        def percentile(q: float) -> float | None:
            return round(float(np.percentile(sinr_db, q)), 2) if sinr_db.size else None

        user_steps = max(self.steps * self.n_users, 1)
        return {
            "steps": self.steps,
            "users": self.n_users,
            "user_steps_covered_fraction": round(self.user_steps_covered / user_steps, 4),
            "visible_satellites_mean": round(float(np.mean(self.visible_satellites)), 2)
            if self.visible_satellites
            else 0,
            "serving_satellites_mean": round(float(np.mean(self.serving_satellites)), 2)
            if self.serving_satellites
            else 0,
            "satellites_that_served": len(self.served_satellites),
            "sinr_db_p5": percentile(5),
            "sinr_db_p50": percentile(50),
            "sinr_db_p95": percentile(95),
            "capacity_bps_per_hz_mean": round(float(capacity.mean()), 4) if capacity.size else None,
        }
