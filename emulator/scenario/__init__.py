"""Scenario files: the TOML schema, loading with file-and-line errors, and writing back as run.

Use `load_scenario(path)`; it returns a `LoadedScenario` or raises `ScenarioError` listing every
problem as `file:line: [table] field: message`.
"""

from emulator.scenario.load import (
    LoadedScenario,
    Problem,
    ScenarioError,
    load_scenario,
    scenario_as_toml,
)
from emulator.scenario.schema import (
    BeamsConfig,
    ConstellationConfig,
    RegionConfig,
    Scenario,
    TimeConfig,
    UsersConfig,
    WalkerConfig,
)

__all__ = [
    "BeamsConfig",
    "ConstellationConfig",
    "LoadedScenario",
    "Problem",
    "RegionConfig",
    "Scenario",
    "ScenarioError",
    "TimeConfig",
    "UsersConfig",
    "WalkerConfig",
    "load_scenario",
    "scenario_as_toml",
]
