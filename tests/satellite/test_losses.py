"""Atmospheric and shadowing losses (f(α) of eq. (2)-(3))."""

from __future__ import annotations

import math

import numpy as np
import pytest

from satellite.link import LinkParameterError
from satellite.losses import atmospheric_loss, shadowing_loss


def test_atmospheric_loss() -> None:
    loss = atmospheric_loss([90.0, 30.0, 5.0, 1.0, -10.0], 0.3)
    np.testing.assert_allclose(10 * np.log10(loss[:2]), [0.3, 0.6])
    assert loss[2] == loss[3] == loss[4]  # floored at 5°
    assert 10 * math.log10(loss[2]) == pytest.approx(0.3 / math.sin(math.radians(5.0)))
    assert atmospheric_loss(45.0, 0.0) == 1.0
    with pytest.raises(LinkParameterError, match="zenith_loss_db"):
        atmospheric_loss(45.0, -0.1)


def test_shadowing_loss() -> None:
    ones = shadowing_loss(np.random.default_rng(7), (4, 5), 0.0)
    np.testing.assert_array_equal(ones, np.ones((4, 5)))
    # std 0 consumes the same stream as std > 0
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    shadowing_loss(a, 100, 0.0)
    shadowing_loss(b, 100, 4.0)
    assert a.random() == b.random()
    draws_db = 10 * np.log10(shadowing_loss(np.random.default_rng(8), 40_000, 4.0))
    assert abs(draws_db.mean()) < 0.1
    assert draws_db.std() == pytest.approx(4.0, rel=0.02)
    with pytest.raises(LinkParameterError, match="std_db"):
        shadowing_loss(np.random.default_rng(0), 3, -1.0)
