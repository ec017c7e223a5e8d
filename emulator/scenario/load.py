"""Load a scenario file, and report everything wrong with it in terms of the file.

`load_scenario(path)` reads the TOML, validates it against `schema.Scenario`, checks that the TLE
file it names exists (and that `filter` matches some of its names), and returns a `LoadedScenario`.
On any problem it raises `ScenarioError`, whose message has one line per problem, each naming the
file as given, the 1-based line, the table and the field, e.g.

    scenarios/x.toml:12: [beams] reuse: Input should be 1, 3, 4 or 7 (got 5)

`scenario_as_toml(loaded)` writes the scenario back out as run, with every default filled in and
paths made absolute; loading that text gives an equal `Scenario`.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
import tomllib
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from emulator.scenario.locate import Loc, SourceMap
from emulator.scenario.schema import BeamsConfig, Scenario

__all__ = ["LoadedScenario", "Problem", "ScenarioError", "load_scenario", "scenario_as_toml"]

_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)\s*$")
_GOT_MAX_CHARS = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with a scenario file."""

    line: int | None
    """1-based line to look at, or None when the file could not be read at all."""
    where: str
    """Table and field, e.g. `[beams] reuse`, `[region]`, `seed`; empty for file-level problems."""
    message: str
    """What is wrong, for people."""

    def format(self, path: str) -> str:
        """The problem as one line: `path:line: where: message`."""
        head = path if self.line is None else f"{path}:{self.line}"
        return f"{head}: {self.where}: {self.message}" if self.where else f"{head}: {self.message}"


class ScenarioError(Exception):
    """A scenario file is missing, unreadable, not TOML, or not a valid scenario.

    `str()` gives one line per problem. `path` is the file as the caller named it; `problems` holds
    the problems in file order.
    """

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = tuple(sorted(problems, key=lambda p: p.line or 0))
        super().__init__("\n".join(p.format(path) for p in self.problems))


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario with the file it came from."""

    scenario: Scenario
    path: Path
    """The scenario file, absolute, so that relative paths resolve the same from any directory."""
    source_text: str

    def resolve(self, p: str | os.PathLike[str]) -> Path:
        """Resolve a path given in the scenario against the scenario file's directory.

        Args:
            p: A path from the scenario; `~` is expanded; absolute paths are kept.

        Returns:
            An absolute, normalised path.
        """
        given = Path(p).expanduser()
        return (given if given.is_absolute() else self.path.parent / given).resolve()

    @property
    def tle_path(self) -> Path | None:
        """The TLE file, resolved; None for a Walker constellation."""
        tle = self.scenario.constellation.tle
        return None if tle is None else self.resolve(tle)


def load_scenario(path: str | os.PathLike[str]) -> LoadedScenario:
    """Read, parse and validate a scenario file.

    Args:
        path: The scenario TOML file; relative paths inside it resolve against its directory.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: listing every problem found, one per line.
    """
    shown = os.fspath(path)
    file = Path(path).absolute()
    text = _read_text(file, shown)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        line = int(found.group(1)) if found else max(1, text.count("\n"))
        raise ScenarioError(
            shown, [Problem(line=line, where="", message=f"TOML: {message}")]
        ) from None
    source = SourceMap.scan(text)
    problems = list(_tle_problems(raw, file.parent, source))
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, raw, source))
    if problems or scenario is None:
        raise ScenarioError(shown, problems)
    return LoadedScenario(scenario, file, text)


def _read_text(file: Path, shown: str) -> str:
    def fail(message: str, line: int | None = None) -> ScenarioError:
        return ScenarioError(shown, [Problem(line=line, where="", message=message)])

    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise fail(f"scenario file not found (looked for {file})") from None
    except IsADirectoryError:
        raise fail("is a directory, not a scenario file") from None
    except OSError as exc:
        raise fail(f"cannot read the scenario file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise fail(f"not UTF-8 text (invalid byte at column {column})", line) from None


# -- problems ------------------------------------------------------------------------------------


def _tle_problems(raw: Mapping[str, Any], directory: Path, source: SourceMap) -> Iterator[Problem]:
    """Check that the TLE file exists and that `filter` selects some of its satellites."""
    constellation = raw.get("constellation")
    if not isinstance(constellation, dict):
        return
    tle = constellation.get("tle")
    if not isinstance(tle, str) or tle in ("", "."):
        return  # the schema reports it
    given = Path(tle).expanduser()
    resolved = (given if given.is_absolute() else directory / given).resolve()
    where = "[constellation] tle"
    line = source.line_of(("constellation", "tle"))
    if not resolved.exists():
        yield Problem(line=line, where=where, message=f"file not found: {resolved}")
        return
    if not resolved.is_file():
        yield Problem(line=line, where=where, message=f"not a file: {resolved}")
        return
    try:
        lines = resolved.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        yield Problem(line=line, where=where, message=f"cannot read {resolved}: {exc.strerror}")
        return
    names = [ln.strip() for ln in lines if ln.strip() and not ln.startswith(("1 ", "2 "))]
    if not names:
        yield Problem(line=line, where=where, message=f"no named TLEs in {resolved}")
        return
    pattern = constellation.get("filter")
    if isinstance(pattern, str) and not any(fnmatch.fnmatchcase(n, pattern) for n in names):
        yield Problem(
            line=source.line_of(("constellation", "filter")),
            where="[constellation] filter",
            message=f"matches none of the {len(names)} names in {resolved}",
        )


def _validation_problems(
    exc: ValidationError, raw: Mapping[str, Any], source: SourceMap
) -> Iterator[Problem]:
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        is_table = _is_table(loc, raw)
        where = _where(loc, is_table)
        yield Problem(line=source.line_of(loc), where=where, message=_message(error, loc, is_table))


def _is_table(loc: Loc, raw: Mapping[str, Any]) -> bool:
    """Whether `loc` names a table: in the file, or by the schema."""
    value: Any = raw
    for part in loc:
        in_table = isinstance(value, dict) and isinstance(part, str) and part in value
        in_array = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if in_table or in_array:
            value = value[part]
        else:
            model = _annotation_at(loc)
            return isinstance(model, type) and issubclass(model, BaseModel)
    return isinstance(value, dict)


def _where(loc: Loc, is_table: bool) -> str:
    """`[a.b] field`, `[a.b]` for a table, or `field` at the top level."""
    table, field = (loc, None) if is_table else (loc[:-1], loc[-1] if loc else None)
    text = ""
    for part in table:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    parts = [f"[{text}]"] if text else []
    if field is not None:
        parts.append(str(field))
    return " ".join(parts)


def _message(error: Any, loc: Loc, is_table: bool) -> str:
    kind: str = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "table required" if is_table else "field required"
    if kind == "extra_forbidden":
        model = _annotation_at(loc[:-1])
        what = "unknown table" if is_table else "unknown key"
        if isinstance(model, type) and issubclass(model, BaseModel):
            return f"{what}; valid keys: {', '.join(model.model_fields)}"
        return what
    if kind == "literal_error":
        choices = get_args(_annotation_at(loc))
        text = f"Input should be {_one_of(choices)}" if choices else str(error["msg"])
    elif kind == "timezone_aware":
        text = "naive datetime: give a UTC offset, e.g. 2022-09-14T00:00:00Z"
    elif kind == "model_type":
        text = f"should be a table, [{'.'.join(map(str, loc))}]"
    elif kind == "path_type":
        text = "Input should be a string (a file path)"
    else:
        text = str(error["msg"]).removeprefix("Value error, ")
    if is_table or isinstance(value, dict):
        return text
    return f"{text} (got {_got(value)})"


def _annotation_at(loc: Loc) -> Any:
    """The schema type at `loc` (Optional unwrapped), or None where the schema has no such field."""
    current: Any = Scenario
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _unwrap_optional(field.annotation)
    return current


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap_optional(args[0])
    return annotation


def _one_of(choices: tuple[Any, ...]) -> str:
    shown = [_toml_value(c) for c in choices]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _got(value: Any) -> str:
    try:
        text = _toml_value(value)
    except TypeError:
        text = repr(value)
    return text if len(text) <= _GOT_MAX_CHARS else text[: _GOT_MAX_CHARS - 3] + "..."


# -- writing TOML --------------------------------------------------------------------------------


def scenario_as_toml(loaded: LoadedScenario) -> str:
    """The scenario as run: every default filled in, paths absolute, each key with its description.

    Loading the result (from any directory) gives a `Scenario` equal to `loaded.scenario` except
    that relative paths are now absolute.

    Args:
        loaded: A loaded scenario.

    Returns:
        TOML text.
    """
    out = [
        f"# Scenario {_toml_value(loaded.scenario.name)} as run:"
        " defaults filled in, paths absolute.",
        f"# Source: {loaded.path}",
        "",
    ]
    _write_table(loaded.scenario, (), loaded, out)
    return "\n".join(out) + "\n"


def _write_table(
    model: BaseModel, table: tuple[str, ...], loaded: LoadedScenario, out: list[str]
) -> None:
    fields = type(model).model_fields
    if table:
        out += ["", f"[{'.'.join(table)}]"]
    subtables: list[tuple[str, BaseModel]] = []
    for key, info in fields.items():
        value = getattr(model, key)
        if isinstance(value, BaseModel):
            subtables.append((key, value))
            continue
        if info.description:
            out.append(f"# {info.description}")
        if value is None:
            out.append(f"# {key}: {_unset_note(model, key)}")
            continue
        if isinstance(value, Path):
            value = loaded.resolve(value)
        out.append(f"{key} = {_toml_value(value)}")
    for key, sub in subtables:
        _write_table(sub, (*table, key), loaded, out)


def _unset_note(model: BaseModel, key: str) -> str:
    """What an unset optional field means, for the comment that stands in for it."""
    if isinstance(model, BeamsConfig) and key == "min_elevation_deg":
        return f"not set; the preset's value applies ({model.resolved_min_elevation_deg:g})"
    if isinstance(model, BeamsConfig) and key == "cell_radius_km":
        return "not set; h·tan(θ_3dB) at the constellation's median altitude applies"
    return "not set"


def _toml_value(value: Any) -> str:
    """A Python value as a TOML value (bool, int, float, str, path, datetime, list, dict)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return f"[{', '.join(_toml_value(v) for v in value)}]"
    if isinstance(value, dict):
        items = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _toml_value(key)
