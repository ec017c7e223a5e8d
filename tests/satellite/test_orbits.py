"""Orbits: Walker-delta layout, SGP4 propagation against skyfield, masked failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import SGP4_ERRORS
from skyfield.api import EarthSatellite, load
from skyfield.framelib import itrs

from satellite.frames import teme_to_itrs_rotation
from satellite.orbits import Constellation, constellation_from_tles, propagate, walker_delta
from satellite.tle import TleRecord, read_tle_file

WGS72_RADIUS_KM = 6378.135


@pytest.fixture(scope="module")
def ts() -> Any:
    return load.timescale()


def test_constellation_basics(starlink: list[TleRecord]) -> None:
    constellation = constellation_from_tles(starlink[:10])
    assert len(constellation) == 10
    sub = constellation.subset([3, 1])
    assert sub.names == (starlink[3].name, starlink[1].name)
    assert sub.satrecs == (constellation.satrecs[3], constellation.satrecs[1])
    assert constellation.satrec_array is constellation.satrec_array
    assert len(constellation.satrec_array) == 10
    with pytest.raises(ValueError, match="names"):
        Constellation(names=("a",), satrecs=())


# --- propagation ------------------------------------------------------------------------------


def test_positions_and_velocities_match_skyfield(ts: Any, starlink: list[TleRecord]) -> None:
    sample = list(range(0, len(starlink), len(starlink) // 50))[:50]
    constellation = constellation_from_tles(starlink).subset(sample)
    t = ts.utc(2022, 9, 13, 12, np.linspace(-720.0, 720.0, 5))  # over a day around the epochs
    ephemeris = propagate(constellation, t)
    assert ephemeris.valid.all()
    position_error_km = velocity_error_km_s = 0.0
    for s, index in enumerate(sample):
        record = starlink[index]
        sat = EarthSatellite(record.line1, record.line2, record.name, ts)
        truth_r, truth_v = sat.at(t).frame_xyz_and_velocity(itrs)
        position_error_km = max(
            position_error_km, np.abs(ephemeris.position_itrs_km[:, s] - truth_r.km).max()
        )
        velocity_error_km_s = max(
            velocity_error_km_s,
            np.abs(ephemeris.velocity_itrs_km_s[:, s] - truth_v.km_per_s).max(),
        )
    # Measured: ~4e-11 km (0.04 µm) and ~6e-8 km/s (0.06 mm/s: skyfield's constant ANGVEL vs our
    # dθ_GMST1982/dt); tolerances: 1 mm and 1 mm/s.
    assert position_error_km < 1e-6
    assert velocity_error_km_s < 1e-6


def test_scalar_time_is_one_time_step(ts: Any, starlink: list[TleRecord]) -> None:
    constellation = constellation_from_tles(starlink[:5])
    times = ts.utc(2022, 9, 13, 12, np.array([0.0, 17.0]))
    both = propagate(constellation, times)
    one = propagate(constellation, times[1])
    assert one.position_itrs_km.shape == (3, 5, 1)
    assert one.t.shape == (1,)
    np.testing.assert_allclose(one.position_itrs_km[:, :, 0], both.position_itrs_km[:, :, 1])
    np.testing.assert_allclose(one.velocity_itrs_km_s[:, :, 0], both.velocity_itrs_km_s[:, :, 1])


def test_a_failing_satellite_is_masked_with_its_reason(ts: Any, decaying_tle: Path) -> None:
    constellation = constellation_from_tles(read_tle_file(decaying_tle))
    t = ts.utc(2022, 9, 14, 12, np.array([0.0, 1440.0, 3 * 1440.0, 10 * 1440.0]))
    ephemeris = propagate(constellation, t)
    assert ephemeris.valid.tolist() == [[True, False, False, False], [True] * 4]
    assert ephemeris.failure_reasons() == {"DOOMED": SGP4_ERRORS[6]}  # its first error: decayed
    assert np.isnan(ephemeris.position_itrs_km[:, 0, 1:]).all()
    assert np.isnan(ephemeris.velocity_itrs_km_s[:, 0, 1:]).all()
    assert np.isfinite(ephemeris.position_itrs_km[:, 1]).all()
    assert np.isfinite(ephemeris.position_itrs_km[:, 0, 0]).all()
    position, velocity, valid = ephemeris.at_index(1)
    assert position.shape == velocity.shape == (3, 2)
    assert valid.tolist() == [False, True]


def test_whole_starlink_file_at_60_times(ts: Any, starlink: list[TleRecord]) -> None:
    constellation = constellation_from_tles(starlink)
    t = ts.utc(2022, 9, 13, 0, np.arange(60.0))
    ephemeris = propagate(constellation, t)
    assert ephemeris.position_itrs_km.shape == (3, 2990, 60)
    assert ephemeris.velocity_itrs_km_s.shape == (3, 2990, 60)
    assert ephemeris.error_code.shape == (2990, 60)
    assert ephemeris.error_code.dtype == np.uint8
    assert ephemeris.valid.all()
    assert ephemeris.failure_reasons() == {}
    assert ephemeris.names == constellation.names
    radius_km = np.linalg.norm(ephemeris.position_itrs_km, axis=0)
    # LEO: 2022 Starlink shells ~540-570 km, fresh launches down to ~210 km
    assert radius_km.min() > 6550 and radius_km.max() < 7000
    speed_km_s = np.linalg.norm(ephemeris.velocity_itrs_km_s, axis=0)
    assert speed_km_s.min() > 6.5 and speed_km_s.max() < 8.0  # Earth-fixed LEO speeds


def test_empty_constellation_propagates(ts: Any) -> None:
    t = ts.utc(2022, 9, 13, 0, np.arange(4.0))
    ephemeris = propagate(Constellation(names=(), satrecs=()), t)
    assert ephemeris.position_itrs_km.shape == (3, 0, 4)
    assert ephemeris.error_code.shape == (0, 4)


# --- Walker delta -----------------------------------------------------------------------------


def _inertial_elements(ephemeris: Any, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inclination, node and argument of latitude (degrees) at time index k, from ITRS states."""
    r, v, _ = ephemeris.at_index(k)
    rate = teme_to_itrs_rotation(ephemeris.t)[1][k]
    v_inertial = v + rate * np.array([-r[1], r[0], np.zeros_like(r[0])])  # v + Ω × r
    h = np.cross(r, v_inertial, axis=0)
    inclination = np.degrees(np.arccos(h[2] / np.linalg.norm(h, axis=0)))
    node = np.array([-h[1], h[0], np.zeros_like(h[0])])  # z × h
    node_deg = np.degrees(np.arctan2(node[1], node[0]))
    cos_u = np.sum(node * r, axis=0) / (np.linalg.norm(node, axis=0) * np.linalg.norm(r, axis=0))
    u = np.degrees(np.arccos(np.clip(cos_u, -1, 1)))
    u = np.where(r[2] >= 0, u, 360.0 - u)
    return inclination, node_deg, u


def _angle_diff(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    return (np.asarray(a) - b + 180.0) % 360.0 - 180.0


def test_walker_24_3_1_at_550_km(ts: Any) -> None:
    epoch = ts.utc(2022, 9, 13)
    constellation = walker_delta(
        inclination_deg=53.0, total=24, planes=3, phasing=1, altitude_km=550.0, epoch=epoch
    )
    assert len(constellation) == 24
    assert constellation.names[:2] == ("WALKER-00-00", "WALKER-00-01")
    assert constellation.names[-1] == "WALKER-02-07"
    t = ts.utc(2022, 9, 13, 0, np.linspace(0.0, 1440.0, 97))
    ephemeris = propagate(constellation, t)
    assert ephemeris.valid.all()
    altitude_km = np.linalg.norm(ephemeris.position_itrs_km, axis=0) - WGS72_RADIUS_KM
    assert np.abs(altitude_km - 550.0).max() < 20.0  # J2 short-period terms: measured ±7 km
    inclination, node, u = _inertial_elements(ephemeris, 0)
    np.testing.assert_allclose(inclination, 53.0, atol=0.1)
    node = node.reshape(3, 8)
    u = u.reshape(3, 8)
    # same node within a plane, 360°/p = 120° between adjacent planes
    assert np.abs(_angle_diff(node, node[:, :1])).max() < 0.1
    assert np.abs(_angle_diff(node[1:, 0] - node[:-1, 0], 120.0)).max() < 0.1
    # 360°/s = 45° between slots, f·360°/t = 15° between slot j of adjacent planes
    assert np.abs(_angle_diff(u[:, 1:] - u[:, :-1], 45.0)).max() < 0.1
    assert np.abs(_angle_diff(u[1:] - u[:-1], 15.0)).max() < 0.1


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"total": 25}, "total"),
        ({"total": 0}, "total"),
        ({"planes": 0}, "planes"),
        ({"phasing": 3}, "phasing"),
        ({"phasing": -1}, "phasing"),
        ({"altitude_km": 0.0}, "altitude_km"),
        ({"altitude_km": float("nan")}, "altitude_km"),
        ({"inclination_deg": 181.0}, "inclination_deg"),
        ({"inclination_deg": -0.5}, "inclination_deg"),
    ],
)
def test_walker_rejects_bad_parameters(ts: Any, changes: dict[str, float], parameter: str) -> None:
    arguments: dict[str, Any] = {
        "inclination_deg": 53.0,
        "total": 24,
        "planes": 3,
        "phasing": 1,
        "altitude_km": 550.0,
        "epoch": ts.utc(2022, 9, 13),
    }
    arguments.update(changes)
    with pytest.raises(ValueError, match=parameter):
        walker_delta(**arguments)


@settings(max_examples=25, deadline=None)
@given(
    planes=st.integers(1, 12),
    per_plane=st.integers(1, 12),
    phasing_fraction=st.floats(0.0, 0.999),
    inclination_deg=st.floats(0.0, 180.0),
    altitude_km=st.floats(300.0, 2000.0),
)
def test_walker_property_layout(
    planes: int, per_plane: int, phasing_fraction: float, inclination_deg: float, altitude_km: float
) -> None:
    ts = load.timescale()
    epoch = ts.utc(2022, 9, 13)
    total = planes * per_plane
    constellation = walker_delta(
        inclination_deg=inclination_deg,
        total=total,
        planes=planes,
        phasing=int(phasing_fraction * planes),
        altitude_km=altitude_km,
        epoch=epoch,
        name_prefix="P",
    )
    assert len(constellation) == total
    assert len(set(constellation.names)) == total
    ephemeris = propagate(constellation, epoch)
    assert ephemeris.valid.all()
    radius_km = np.linalg.norm(ephemeris.position_itrs_km, axis=0)
    assert np.abs(radius_km - WGS72_RADIUS_KM - altitude_km).max() < 25.0


def test_geodetic_and_median_altitude_of_the_starlink_shells(
    ts: Any, starlink: list[TleRecord]
) -> None:
    ephemeris = propagate(constellation_from_tles(starlink), ts.utc(2022, 9, 14, 0, [0.0, 10.0]))
    lat_deg, lon_deg, height_km = ephemeris.geodetic()
    assert lat_deg.shape == lon_deg.shape == height_km.shape == (2990, 2)
    assert np.nanmax(np.abs(lat_deg)) < 98.0  # the highest-inclination shell is 97.6°
    assert 530.0 < ephemeris.median_altitude_km() < 570.0  # most of the 2022 fleet flies at 550 km


def test_median_altitude_needs_a_satellite_that_propagated(ts: Any, decaying_tle: Path) -> None:
    doomed = constellation_from_tles(read_tle_file(decaying_tle)).subset([0])
    ephemeris = propagate(doomed, ts.utc(2022, 9, 30))
    with pytest.raises(ValueError, match="no satellite propagated"):
        ephemeris.median_altitude_km()
