"""The satedge command line (``python -m emulator`` and the ``satedge`` console script)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from emulator.constellation import run_constellation
from emulator.plan import Plan
from emulator.rundir import new_run_dir
from emulator.scenario import ScenarioError, load_scenario
from satellite.tle import TleFormatError

app = typer.Typer(
    name="satedge",
    help="satedge: emulate blockchain-secured spectrum trading in multibeam satellite systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@app.callback()
def _root() -> None:
    """Emulate blockchain-secured spectrum trading in multibeam satellite systems."""


@app.command()
def constellation(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario TOML file, e.g. scenarios/default.toml")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Run directory (default runs/<name>-<UTC time>/)")
    ] = None,
) -> None:
    """Propagate a scenario's constellation and write its multibeam coverage to a run directory."""
    try:
        loaded = load_scenario(scenario)
        plan = Plan.from_scenario(loaded)
        run_dir = new_run_dir(loaded.scenario.name, out)
    except (ScenarioError, TleFormatError, FileExistsError, ValueError) as exc:
        raise _fail(str(exc)) from None
    columns = (
        TextColumn("[bold]coverage"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("coverage", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = run_constellation(plan, run_dir, advance)
    err.print(_summary_table(summary))
    typer.echo(str(run_dir))


def _summary_table(summary: dict[str, object]) -> Table:
    table = Table(title="coverage summary", show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = (
        ("satellites propagated", "satellites"),
        ("satellites failed", "satellites_failed"),
        ("cells in region", "cells"),
        ("cell radius (km)", "cell_radius_km"),
        ("satellites visible from region centre (mean)", "visible_satellites_mean"),
        ("satellites serving beams (mean)", "serving_satellites_mean"),
        ("users", "users"),
        ("user-steps covered (fraction)", "user_steps_covered_fraction"),
        ("SINR p5 (dB)", "sinr_db_p5"),
        ("SINR p50 (dB)", "sinr_db_p50"),
        ("SINR p95 (dB)", "sinr_db_p95"),
        ("capacity mean (bit/s/Hz)", "capacity_bps_per_hz_mean"),
    )
    for label, key in rows:
        table.add_row(label, str(summary.get(key)))
    return table


def main() -> None:
    """Entry point of the console script."""
    app()
