"""Line numbers of TOML keys and tables, for error messages (tomllib reports no positions).

`SourceMap.scan(text)` walks the source of a document that tomllib has already accepted and
records the 1-based line of every table header (`[a.b]`, `[[x]]` with its element index), of every
key (`key = ...`, quoted keys, dotted keys, keys inside inline tables and arrays of inline tables)
and of the tables those imply. `SourceMap.line_of(loc)` maps a pydantic error location — a tuple of
keys and list indices such as `("beams", "reuse")` or `("malicious", 0, "node")` — to the line of
that key, else to the nearest enclosing table or key written in the file, else to line 1.

The scanner skips strings (basic, literal and both multi-line forms), comments and multi-line
arrays, so a `=` or `[` inside a value is never taken for a key or a header. It assumes valid TOML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Loc", "SourceMap"]

Loc = tuple[str | int, ...]
"""A path into a TOML document: table and key names, and indices into arrays."""

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


@dataclass(slots=True)
class _Cursor:
    """A position in the source: a line index (0-based) and a column."""

    lines: list[str]
    row: int = 0
    col: int = 0

    def char(self) -> str:
        """The current character; a newline at the end of a line, "" at the end of the text."""
        if self.row >= len(self.lines):
            return ""
        line = self.lines[self.row]
        return line[self.col] if self.col < len(line) else "\n"

    def startswith(self, text: str) -> bool:
        """Whether the current line continues with `text`."""
        return self.row < len(self.lines) and self.lines[self.row].startswith(text, self.col)

    def advance(self, n: int = 1) -> None:
        """Move n characters forward, to the next line after the end of one."""
        for _ in range(n):
            if self.row >= len(self.lines):
                return
            if self.col >= len(self.lines[self.row]):
                self.row += 1
                self.col = 0
            else:
                self.col += 1

    def skip_blank(self, newlines: bool = False) -> None:
        """Skip spaces and tabs; also comments and line ends if `newlines`."""
        while True:
            c = self.char()
            if c in (" ", "\t"):
                self.advance()
            elif newlines and c == "#":
                self.col = len(self.lines[self.row])
            elif newlines and c == "\n":
                self.advance()
            else:
                return

    def skip_to_line_end(self) -> None:
        """Drop the rest of the current line (a comment or trailing text)."""
        if self.row < len(self.lines):
            self.col = len(self.lines[self.row])


@dataclass(slots=True)
class SourceMap:
    """Lines (1-based) of the tables and keys of one TOML document."""

    tables: dict[Loc, int] = field(default_factory=dict)
    """Explicit table headers: `[a.b]` at `("a", "b")`, the k-th `[[x]]` at `("x", k)`."""
    keys: dict[Loc, int] = field(default_factory=dict)
    """Keys: `a.b = 1` under `[t]` at `("t", "a", "b")`; inline-table keys likewise."""
    implicit: dict[Loc, int] = field(default_factory=dict)
    """Tables created implicitly by a deeper header or a dotted key, at their first mention."""
    _array_counts: dict[Loc, int] = field(default_factory=dict)

    @classmethod
    def scan(cls, text: str) -> SourceMap:
        """Scan a TOML document that tomllib accepts.

        Args:
            text: The document.

        Returns:
            The map of its tables and keys.
        """
        source = cls()
        cur = _Cursor([line.removesuffix("\r") for line in text.split("\n")])
        table: Loc = ()
        while True:
            cur.skip_blank(newlines=True)
            c = cur.char()
            if c == "":
                return source
            if c == "[":
                table = source._header(cur)
            else:
                source._key_value(cur, table)

    def line_of(self, loc: Loc) -> int:
        """The line to blame for a problem at `loc`.

        Args:
            loc: Keys and indices from the document root, e.g. `("beams", "reuse")`.

        Returns:
            The line of the key itself, else of the longest prefix of `loc` that is a key or table
            written in the file (a header beating an implicit mention), else 1.
        """
        for end in range(len(loc), 0, -1):
            prefix = loc[:end]
            for where in (self.keys, self.tables, self.implicit):
                if prefix in where:
                    return where[prefix]
        return 1

    # -- headers ---------------------------------------------------------------------------------

    def _header(self, cur: _Cursor) -> Loc:
        line = cur.row + 1
        is_array = cur.startswith("[[")
        cur.advance(2 if is_array else 1)
        cur.skip_blank()
        parts = _read_key(cur)
        cur.skip_to_line_end()
        parent = self._concrete(parts[:-1], line)
        path = (*parent, parts[-1])
        if is_array:
            index = self._array_counts.get(path, -1) + 1
            self._array_counts[path] = index
            self.implicit.setdefault(path, line)
            path = (*path, index)
        self.tables.setdefault(path, line)
        return path

    def _concrete(self, parts: tuple[str, ...], line: int) -> Loc:
        """Resolve header parts to a path, entering the last element of any array of tables."""
        path: Loc = ()
        for part in parts:
            path = (*path, part)
            if path in self._array_counts:
                path = (*path, self._array_counts[path])
            self.implicit.setdefault(path, line)
        return path

    # -- keys and values -------------------------------------------------------------------------

    def _key_value(self, cur: _Cursor, table: Loc) -> None:
        line = cur.row + 1
        parts = _read_key(cur)
        path = (*table, *parts)
        for end in range(len(table) + 1, len(path)):
            self.implicit.setdefault(path[:end], line)
        self.keys.setdefault(path, line)
        cur.skip_blank()
        if cur.char() == "=":
            cur.advance()
        self._value(cur, path)
        cur.skip_to_line_end()

    def _value(self, cur: _Cursor, path: Loc) -> None:
        """Skip one value, recording the keys of any inline tables in it."""
        cur.skip_blank()
        c = cur.char()
        if c in ('"', "'"):
            _skip_string(cur)
        elif c == "[":
            cur.advance()
            index = 0
            while True:
                cur.skip_blank(newlines=True)
                c = cur.char()
                if c in ("]", ""):
                    cur.advance()
                    return
                if c == ",":
                    cur.advance()
                    index += 1
                    continue
                self._value(cur, (*path, index))
        elif c == "{":
            cur.advance()
            while True:
                cur.skip_blank()
                c = cur.char()
                if c in ("}", "", "\n"):
                    cur.advance()
                    return
                if c == ",":
                    cur.advance()
                    continue
                line = cur.row + 1
                parts = _read_key(cur)
                self.keys.setdefault((*path, *parts), line)
                cur.skip_blank()
                if cur.char() == "=":
                    cur.advance()
                self._value(cur, (*path, *parts))
        else:
            # A number, boolean or date: runs to a separator.
            while cur.char() not in (",", "]", "}", "#", "\n", ""):
                cur.advance()


def _read_key(cur: _Cursor) -> tuple[str, ...]:
    """Read a (possibly dotted, possibly quoted) key; stop before `=` or `]`."""
    parts: list[str] = []
    while True:
        cur.skip_blank()
        c = cur.char()
        if c in ('"', "'"):
            parts.append(_skip_string(cur))
        else:
            start = cur.col
            while cur.char() in _BARE_KEY_CHARS:
                cur.advance()
            parts.append(cur.lines[cur.row][start : cur.col] if cur.row < len(cur.lines) else "")
        cur.skip_blank()
        if cur.char() != ".":
            return tuple(parts)
        cur.advance()


def _skip_string(cur: _Cursor) -> str:
    """Skip a string of any of the four kinds and return its (approximately unescaped) content."""
    quote = cur.char()
    multi = cur.startswith(quote * 3)
    cur.advance(3 if multi else 1)
    out: list[str] = []
    while True:
        c = cur.char()
        if c == "":
            return "".join(out)
        if multi and cur.startswith(quote * 3):
            # Up to two quotes may precede the closing delimiter as content.
            extra = 0
            while extra < 2 and cur.startswith(quote * (4 + extra)):
                extra += 1
            out.append(quote * extra)
            cur.advance(3 + extra)
            return "".join(out)
        if not multi and c == quote:
            cur.advance()
            return "".join(out)
        if c == "\\" and quote == '"':
            cur.advance()
            escaped = cur.char()
            cur.advance()
            width = {"u": 4, "U": 8}.get(escaped, 0)
            if width:
                digits = cur.lines[cur.row][cur.col : cur.col + width]
                cur.advance(width)
                try:
                    out.append(chr(int(digits, 16)))
                except ValueError:
                    out.append(digits)
            else:
                out.append(_ESCAPES.get(escaped, escaped))
            continue
        if c == "\n" and not multi:  # unterminated: invalid TOML, stop at the line end
            return "".join(out)
        out.append(c)
        cur.advance()
