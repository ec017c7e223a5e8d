"""The soak loop counts and reports failing seeds."""

from __future__ import annotations

import io

from ledger.consensus.soak import soak


def test_soak_counts_failures_and_reports_each_with_its_seed() -> None:
    def check(seed: int) -> None:
        if seed % 3 == 0:
            raise AssertionError(f"seed={seed}: broke")

    out = io.StringIO()
    assert soak(range(7), check, out) == 3
    lines = out.getvalue().splitlines()
    assert lines == [
        "FAIL seed=0: broke",
        "FAIL seed=3: broke",
        "FAIL seed=6: broke",
        "4/7 seeds passed",
    ]
