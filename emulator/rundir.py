"""Run directories: ``runs/<scenario name>-<UTC timestamp>/`` unless the user names one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

RUNS_ROOT = Path("runs")


def new_run_dir(name: str, out: Path | None = None, *, now: datetime | None = None) -> Path:
    """Create and return the directory a run writes to.

    Args:
        name: The scenario's name.
        out: A directory the user named (``--out``); created if missing, reused if empty.
        now: The wall-clock time to stamp the default name with (UTC).

    Raises:
        FileExistsError: ``out`` exists and is not an empty directory (nothing is overwritten).
    """
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"--out {out}: exists and is not an empty directory")
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = RUNS_ROOT / f"{name}-{stamp}"
    candidate, suffix = base, 1
    while candidate.exists():
        suffix += 1
        candidate = base.with_name(f"{base.name}-{suffix}")
    candidate.mkdir(parents=True)
    return candidate
