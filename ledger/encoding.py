"""The one canonical byte form of everything signed or hashed, and strict decoding back to records.

Canonical form: JSON, UTF-8, keys sorted, no whitespace, no floats; integers within the signed
64-bit range (orjson's limit, ample for base units of coin); byte strings as lowercase hex.
Decoding is the mirror image and trusts nothing: input longer than the caller's limit, malformed
JSON, floats, keys out of order, whitespace, duplicate keys or escapes that the canonical form
would not produce are all rejected with a :class:`DecodeError` that names the field.

Records are frozen dataclasses deriving from :class:`Record`; their field annotations drive the
strict conversion (``from_fields``/``to_fields``): ``int`` (never ``bool``), ``str``, ``bool``,
``bytes`` (hex; ``Annotated[bytes, Length(n)]`` fixes the length), ``IntEnum`` subclasses,
``tuple[X, ...]``, ``X | None``, nested records, and ``JsonObject`` (a free-form object checked
only for canonical types, validated later by whoever owns it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any, ClassVar, Self, TypeAlias

import orjson

__all__ = [
    "DecodeError",
    "EncodingError",
    "InvalidValue",
    "JsonObject",
    "Length",
    "MalformedJson",
    "MissingField",
    "NotCanonical",
    "Oversized",
    "Record",
    "UnknownField",
    "WrongType",
    "canonical",
    "decode_canonical",
    "is_canonical_value",
    "sha256",
]

JsonObject: TypeAlias = dict[str, Any]
"""A free-form JSON object inside a record (e.g. a transaction family's payload)."""

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


def sha256(data: bytes) -> bytes:
    """SHA-256 digest (hashlib): transaction, block and PoW hashes."""
    return hashlib.sha256(data).digest()


class EncodingError(ValueError):
    """Something local cannot be put in canonical form (a float, a non-string key, ...)."""


@dataclass(frozen=True, slots=True)
class Length:
    """``Annotated[bytes, Length(32)]``: a byte string of exactly this many bytes."""

    size: int


class DecodeError(ValueError):
    """Input from outside is not an acceptable canonical record.

    Attributes:
        field: Dotted path of the offending field ("" for the whole input).
        reason: What is wrong with it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field or '<input>'}: {reason}")
        self.field = field
        self.reason = reason


class Oversized(DecodeError):
    """The input is longer than the receiver accepts."""


class MalformedJson(DecodeError):
    """The input is not JSON (or not UTF-8)."""


class NotCanonical(DecodeError):
    """The input is JSON but not in canonical form (order, whitespace, duplicates, escapes)."""


class UnknownField(DecodeError):
    """A field that the record does not have."""


class MissingField(DecodeError):
    """A required field is absent."""


class WrongType(DecodeError):
    """A field has the wrong JSON type (a float, a string for an integer, ...)."""


class InvalidValue(DecodeError):
    """A field has the right type but an unacceptable value (range, length, enum member)."""


def _is_canonical_value(value: Any) -> bool:
    """True when ``value`` holds only what canonical JSON can carry (the fast path: no paths).

    An explicit stack instead of recursion: this runs over every decoded block and transaction.
    """
    stack = [value]
    pop = stack.pop
    extend = stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not INT_MIN <= item <= INT_MAX:
                return False
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            extend(item.values())
            continue
        if kind is list or kind is tuple:
            extend(item)
            continue
        return False
    return True


def is_canonical_value(value: Any) -> bool:
    """Whether ``value`` holds only what canonical JSON carries (no floats, 64-bit integers)."""
    return _is_canonical_value(value)


def _check_canonical_types(value: Any, path: str) -> None:
    """Raise WrongType/InvalidValue where ``value`` holds anything JSON-canonical cannot.

    The walk that names the offending path runs only once the fast check has failed.
    """
    if not _is_canonical_value(value):
        _name_the_offence(value, path)


def _name_the_offence(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidValue(path, f"integer {value} outside the signed 64-bit range")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise WrongType(path, f"object key {key!r} is not a string")
            _name_the_offence(item, f"{path}.{key}" if path else key)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _name_the_offence(item, f"{path}[{index}]")
        return
    if isinstance(value, float):
        raise WrongType(path, "floats are not allowed (use integers in base units)")
    raise WrongType(path, f"{type(value).__name__} is not a JSON value")


def canonical(obj: Any) -> bytes:
    """The canonical bytes of a JSON-compatible value or a :class:`Record`.

    Raises:
        EncodingError: ``obj`` holds a float, a non-string key or a non-JSON type.
    """
    if isinstance(obj, Record):
        obj = obj.to_fields()
    try:
        _check_canonical_types(obj, "")
    except DecodeError as exc:
        raise EncodingError(str(exc)) from None
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def decode_canonical(data: bytes, *, max_bytes: int) -> JsonObject:
    """Parse canonical bytes into a JSON object, rejecting anything non-canonical.

    Args:
        data: The received bytes.
        max_bytes: The largest input accepted.

    Raises:
        Oversized, MalformedJson, WrongType, InvalidValue, NotCanonical: see the class names.
    """
    if len(data) > max_bytes:
        raise Oversized("", f"{len(data)} bytes, more than the {max_bytes} accepted")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson("", str(exc)) from None
    if not isinstance(value, dict):
        raise WrongType("", f"expected a JSON object, got {type(value).__name__}")
    _check_canonical_types(value, "")
    if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) != data:
        raise NotCanonical("", "not in canonical form (sorted keys, no whitespace, no escapes)")
    return value


Converter = Callable[[Any, str], Any]


class Record:
    """Base of frozen dataclasses that travel or are hashed in canonical form.

    Subclasses are ``@dataclass(frozen=True, slots=True, kw_only=True)``; every field's annotation
    must be one of the supported types (module docstring).
    """

    _decoders: ClassVar[dict[str, Converter]]
    _encoders: ClassVar[dict[str, Callable[[Any], Any]]]

    def to_fields(self) -> JsonObject:
        """The record as a canonical-ready JSON object."""
        encoders = _codecs(type(self))[1]
        return {name: encode(getattr(self, name)) for name, encode in encoders.items()}

    def encode(self) -> bytes:
        """Canonical bytes of the record."""
        return canonical(self.to_fields())

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any], path: str = "") -> Self:
        """Build the record from a JSON object, strictly.

        Raises:
            UnknownField, MissingField, WrongType, InvalidValue: naming the dotted field path.
        """
        fast = _fast_decoders(cls)
        if isinstance(fields, Mapping) and len(fields) == len(fast):
            try:
                values = {name: decode(fields[name]) for name, decode in fast.items()}
            except (DecodeError, KeyError):
                pass  # decode again below, naming the offending field
            else:
                return cls(**values)
        decoders = _codecs(cls)[0]
        if not isinstance(fields, Mapping):
            raise WrongType(path, f"expected an object, got {type(fields).__name__}")
        for key in fields:
            if key not in decoders:
                valid = ", ".join(sorted(decoders))
                raise UnknownField(_join(path, str(key)), f"unknown field (fields: {valid})")
        values = {}
        for name, decode in decoders.items():
            if name not in fields:
                raise MissingField(_join(path, name), "required field is missing")
            values[name] = decode(fields[name], _join(path, name))
        return cls(**values)

    @classmethod
    def decode(cls, data: bytes, *, max_bytes: int) -> Self:
        """Decode canonical bytes into the record (see :func:`decode_canonical`)."""
        return cls.from_decoded(decode_canonical(data, max_bytes=max_bytes))

    @classmethod
    def from_decoded(cls, fields: JsonObject, path: str = "") -> Self:
        """:meth:`from_fields` for (part of) what :func:`decode_canonical` returned.

        Its JSON types are already checked, so free-form objects are not walked again; the
        result and the errors are :meth:`from_fields`'s.
        """
        fast = _fast_decoders(cls, checked=True)
        if type(fields) is dict and len(fields) == len(fast):
            try:
                values = {name: decode(fields[name]) for name, decode in fast.items()}
            except (DecodeError, KeyError):
                pass
            else:
                return cls(**values)
        return cls.from_fields(fields, path)


_RECORD_FROM_FIELDS = Record.from_fields.__func__  # type: ignore[attr-defined]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_CODEC_CACHE: dict[type, tuple[dict[str, Converter], dict[str, Callable[[Any], Any]]]] = {}


def _codecs(cls: type) -> tuple[dict[str, Converter], dict[str, Callable[[Any], Any]]]:
    """Per-class field decoders and encoders, built once from the annotations."""
    cached = _CODEC_CACHE.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        names = [f.name for f in dataclasses.fields(cls)]
        cached = (
            {name: _decoder(hints[name]) for name in names},
            {name: _encoder(hints[name]) for name in names},
        )
        _CODEC_CACHE[cls] = cached
    return cached


FastConverter = Callable[[Any], Any]
_FAST_CACHE: dict[tuple[type, bool], dict[str, FastConverter]] = {}


def _fast_decoders(cls: type, *, checked: bool = False) -> dict[str, FastConverter]:
    """Per-class decoders that do not build field paths (the path-naming ones rerun on error).

    Each accepts and returns exactly what the matching :func:`_decoder` does; on bad input it
    raises some :class:`DecodeError` (or ``KeyError`` for a missing field) without the path.
    ``checked``: the input came out of :func:`decode_canonical`, so a free-form object holds
    only canonical JSON types already and is not walked again.
    """
    cached = _FAST_CACHE.get((cls, checked))
    if cached is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        cached = {f.name: _fast_decoder(hints[f.name], checked) for f in dataclasses.fields(cls)}
        _FAST_CACHE[cls, checked] = cached
    return cached


def _fast_decoder(annotation: Any, checked: bool) -> FastConverter:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        inner, *extras = args
        length = next((e.size for e in extras if isinstance(e, Length)), None)
        base = _fast_decoder(inner, checked)
        if length is None:
            return base

        def fixed(value: Any) -> Any:
            decoded = base(value)
            if len(decoded) != length:
                raise InvalidValue("", "wrong length")
            return decoded

        return fixed
    if origin in (types.UnionType, typing.Union):
        some = _fast_decoder(next(a for a in args if a is not type(None)), checked)
        return lambda value: None if value is None else some(value)
    if origin is tuple:
        item = _fast_decoder(args[0], checked)

        def sequence(value: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise WrongType("", "expected a list")
            return tuple(map(item, value))

        return sequence
    if checked and (origin is dict or annotation is dict):
        return _fast_object
    if annotation is int:
        return _fast_integer
    if annotation is str:
        return _fast_string
    if annotation is bytes:
        return _fast_hex_bytes
    if isinstance(annotation, type) and issubclass(annotation, Record):
        record = annotation
        if getattr(record.from_fields, "__func__", None) is not _RECORD_FROM_FIELDS:
            return lambda value: record.from_fields(value, "")

        built: list[FastConverter] = []

        def nested(value: Any) -> Any:
            if not built:  # on first use: the record may refer to itself
                built.append(_record_builder(record, checked))
            return built[0](value)

        return nested
    slow = _decoder(annotation)
    return lambda value: slow(value, "")


def _record_builder(record: type[Record], checked: bool) -> FastConverter:
    """A fast decoder of one plain ``dict`` into ``record``, generated for its fields.

    Straight-line code (one keyword argument per field) rather than a loop over the decoders:
    a bulk payload holds thousands of nested records. Field names are Python identifiers.
    """
    fast = _fast_decoders(record, checked=checked)
    names = list(fast)
    arguments = ", ".join(f"{name}=_d{i}(value[{name!r}])" for i, name in enumerate(names))
    source = (
        "def build(value):\n"
        f"    if type(value) is not dict or len(value) != {len(names)}:\n"
        "        raise _Wrong('', 'expected an object with the record fields')\n"
        f"    return _record({arguments})\n"
    )
    scope: dict[str, Any] = {f"_d{i}": fast[name] for i, name in enumerate(names)}
    scope.update(_record=record, _Wrong=WrongType)
    exec(source, scope)  # generated from the record's own field names
    builder: FastConverter = scope["build"]
    return builder


def _fast_object(value: Any) -> JsonObject:
    if type(value) is not dict:
        raise WrongType("", "expected an object")
    return value


def _fast_integer(value: Any) -> int:
    if type(value) is not int or not INT_MIN <= value <= INT_MAX:
        raise WrongType("", "expected a 64-bit integer")
    return value


def _fast_string(value: Any) -> str:
    if type(value) is not str:
        raise WrongType("", "expected a string")
    return value


def _fast_hex_bytes(value: Any) -> bytes:
    return _hex_bytes(value, "")


def _decoder(annotation: Any) -> Converter:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        inner, *extras = args
        length = next((e.size for e in extras if isinstance(e, Length)), None)
        base = _decoder(inner)

        def fixed(value: Any, path: str) -> Any:
            decoded = base(value, path)
            if length is not None and len(decoded) != length:
                raise InvalidValue(path, f"expected {length} bytes, got {len(decoded)}")
            return decoded

        return fixed
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1 or len(args) != 2:
            raise TypeError(f"only `X | None` unions are supported, not {annotation}")
        some = _decoder(options[0])
        return lambda value, path: None if value is None else some(value, path)
    if origin is tuple:
        item = _decoder(args[0])

        def sequence(value: Any, path: str) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise WrongType(path, f"expected a list, got {type(value).__name__}")
            return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

        return sequence
    if origin is dict or annotation is dict:
        return _json_object
    if annotation is bool:
        return _typed(bool, "a boolean")
    if annotation is int:
        return _integer
    if annotation is str:
        return _typed(str, "a string")
    if annotation is bytes:
        return _hex_bytes
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return _enum_decoder(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation.from_fields
    raise TypeError(f"unsupported record field type {annotation!r}")


def _encoder(annotation: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _encoder(args[0])
    if origin in (types.UnionType, typing.Union):
        some = _encoder(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else some(value)
    if origin is tuple:
        item = _encoder(args[0])
        return lambda value: [item(v) for v in value]
    if annotation is bytes:
        return bytes.hex
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return int
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return lambda value: value.to_fields()
    return _identity


def _identity(value: Any) -> Any:
    return value


def _typed(kind: type, name: str) -> Converter:
    def check(value: Any, path: str) -> Any:
        if type(value) is not kind:
            raise WrongType(path, f"expected {name}, got {type(value).__name__}")
        return value

    return check


def _integer(value: Any, path: str) -> int:
    if type(value) is not int:
        raise WrongType(path, f"expected an integer, got {type(value).__name__}")
    if not INT_MIN <= value <= INT_MAX:
        raise InvalidValue(path, f"integer {value} outside the signed 64-bit range")
    return value


def _hex_bytes(value: Any, path: str) -> bytes:
    if type(value) is not str:
        raise WrongType(path, f"expected a hex string, got {type(value).__name__}")
    if len(value) % 2 or value != value.lower():
        raise InvalidValue(path, "expected lowercase hex with an even number of digits")
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        raise InvalidValue(path, "not a hex string") from None
    if len(decoded) * 2 != len(value):  # bytes.fromhex skips whitespace; canonical hex has none
        raise InvalidValue(path, "not a hex string (whitespace inside)")
    return decoded


def _json_object(value: Any, path: str) -> JsonObject:
    if not isinstance(value, dict):
        raise WrongType(path, f"expected an object, got {type(value).__name__}")
    _check_canonical_types(value, path)
    return value


def _enum_decoder(kind: type[IntEnum]) -> Converter:
    members = ", ".join(f"{m.value} ({m.name})" for m in kind)

    def member(value: Any, path: str) -> IntEnum:
        if type(value) is not int:
            raise WrongType(path, f"expected an integer code, got {type(value).__name__}")
        try:
            return kind(value)
        except ValueError:
            raise InvalidValue(path, f"{value} is not one of {members}") from None

    return member
