"""The soak loop shared by the simulators' command lines: run seeds, report failures, count them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TextIO


def soak(seeds: Iterable[int], check_seed: Callable[[int], None], out: TextIO = sys.stdout) -> int:
    """Run ``check_seed`` for each seed; an AssertionError is a failure, printed with its seed.

    Returns:
        The number of failing seeds (the last line written says how many passed).
    """
    ran = failures = 0
    for seed in seeds:
        ran += 1
        try:
            check_seed(seed)
        except AssertionError as exc:
            failures += 1
            out.write(f"FAIL {exc}\n")
    out.write(f"{ran - failures}/{ran} seeds passed\n")
    return failures
