"""Propagation losses beyond free space: the f(α) of Li et al. eq. (2)-(3).

f(α) ≥ 1 divides the received power (SCIENCE.md §3.1). satedge composes it from a clear-sky
atmospheric loss that grows with the air mass, and an optional log-normal shadowing draw.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .link import LinkParameterError

__all__ = ["MIN_ATMOSPHERIC_ELEVATION_DEG", "atmospheric_loss", "shadowing_loss"]

MIN_ATMOSPHERIC_ELEVATION_DEG = 5.0
"""Elevation floor of :func:`atmospheric_loss`: below it the flat-layer 1/sin(el) law fails."""


def atmospheric_loss(elevation_deg: ArrayLike, zenith_loss_db: float) -> NDArray[np.float64]:
    """Clear-sky atmospheric loss (linear, ≥ 1), a part of f(α) in eq. (2)-(3).

    The zenith loss A_z [dB] scaled by the flat-layer air mass 1/sin(el):
    10^(A_z / (10·sin(max(el, 5°)))). The elevation is floored at 5° because below that the
    flat-layer law diverges while the real path through a curved atmosphere stays finite (ITU-R
    P.676 switches to a ray-traced path there); users below 5° are normally masked out anyway.

    Args:
        elevation_deg: Elevation of the satellite seen from the user [deg], any shape.
        zenith_loss_db: Loss at 90° elevation [dB], ≥ 0.

    Returns:
        The loss (linear, ≥ 1), float64, same shape as ``elevation_deg``.

    Raises:
        LinkParameterError: If ``zenith_loss_db`` is negative.
    """
    if not zenith_loss_db >= 0.0:
        raise LinkParameterError(
            f"atmospheric_loss: zenith_loss_db must be >= 0, got {zenith_loss_db!r}"
        )
    elevation = np.maximum(
        np.asarray(elevation_deg, dtype=np.float64), MIN_ATMOSPHERIC_ELEVATION_DEG
    )
    loss: NDArray[np.float64] = np.power(
        10.0, zenith_loss_db / (10.0 * np.sin(np.radians(elevation)))
    )
    return loss


def shadowing_loss(
    rng: np.random.Generator, shape: int | tuple[int, ...], std_db: float
) -> NDArray[np.float64]:
    """Log-normal shadowing as a linear loss 10^(X/10), X ~ N(0, σ²) dB, a part of f(α).

    Zero-mean in dB, so individual draws may be < 1 (a fade-up). The generator is ALWAYS advanced
    by one standard normal per element, even for σ = 0 (which returns exact ones): runs that differ
    only in σ then consume identical random streams, so everything drawn afterwards is common to
    both (common random numbers).

    Args:
        rng: The numpy Generator to draw from.
        shape: Output shape.
        std_db: σ [dB], ≥ 0.

    Returns:
        The loss (linear, > 0), float64, of ``shape``.

    Raises:
        LinkParameterError: If ``std_db`` is negative.
    """
    if not std_db >= 0.0:
        raise LinkParameterError(f"shadowing_loss: std_db must be >= 0, got {std_db!r}")
    draws = rng.standard_normal(shape)
    loss: NDArray[np.float64] = np.power(10.0, draws * (std_db / 10.0))
    return loss
