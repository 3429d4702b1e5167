"""Pure functions turning Cliniko payloads into model column values (see sync_core/models.py).

Each `parse_*` returns the columns of one row without organization_id or sync bookkeeping, and raises
`RecordValidationError` for a record the engine must quarantine instead of storing. Cliniko quirks handled
here: ids as strings (legacy payloads: integers), `""` or null for an empty date-time, relations as link
objects whose last path segment is the related id.

A payload is a record's JSON bytes, as the client hands them over (msgspec.Raw), or an already decoded
dict. From bytes only the mapped fields are decoded (into a small msgspec struct) and `raw` is the bytes
themselves, so the payload is stored exactly as Cliniko sent it. Every record of a sync passes through
here: each resource is a table of (column, payload field, converter), applied in one pass, and only a
record that fails is walked field by field to name the culprit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import msgspec
import orjson

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_ID_DIGITS = 20  # a 64-bit integer


class RecordValidationError(ValueError):
    """A record that cannot be stored as it is. `reason` names fields and ids only, never patient data."""

    def __init__(self, cliniko_id: str | None, reason: str) -> None:
        super().__init__(f"{cliniko_id or 'unknown id'}: {reason}")
        self.cliniko_id = cliniko_id
        self.reason = reason


# ------------------------------------------------------------------------------------------------
# Field converters (raise ValueError / TypeError; _parse turns them into RecordValidationError)
# ------------------------------------------------------------------------------------------------


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime; `None` and `""` are null."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a date-time string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"unparseable date-time {value!r}") from None
    tz = parsed.tzinfo
    if tz is UTC:  # Cliniko always sends UTC with "Z"
        return parsed
    # A naive value is taken to be UTC as well.
    return parsed.replace(tzinfo=UTC) if tz is None else parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """A plain `YYYY-MM-DD` date (date_of_birth); `None` and `""` are null."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a date string, got {type(value).__name__}")
    if not _DATE_RE.match(value):
        raise ValueError(f"unparseable date {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"impossible date {value!r}") from None


def cliniko_id(value: Any) -> str:
    """An id as text. Current Cliniko sends strings of a 64-bit integer; legacy payloads sent integers."""
    if value.__class__ is str:
        if value.isascii() and value.isdigit() and len(value) <= _MAX_ID_DIGITS:
            return value  # type: ignore[no-any-return]
    elif isinstance(value, bool):
        raise TypeError("id is a boolean")
    elif isinstance(value, int):
        if value < 0:
            raise ValueError(f"negative id {value}")
        return str(value)
    raise ValueError(f"id {value!r} is not numeric")


class _LinkUrls(msgspec.Struct, gc=False):
    self_: str = msgspec.field(name="self")


class _Link(msgspec.Struct, gc=False):
    """A link object `{"links": {"self": ".../patients/123"}}` as the typed decoder reads it."""

    links: _LinkUrls


def link_id(value: Any) -> str | None:
    """The related id from a link object `{"links": {"self": ".../patients/123"}}`; None if absent."""
    if value.__class__ is _Link:
        return _linked_id(value)
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise TypeError(f"expected a link object, got {type(value).__name__}")
    links = value.get("links")
    url = links.get("self") if isinstance(links, dict) else None
    if not isinstance(url, str) or not url:
        raise ValueError("link object without links.self")
    return _id_from_url(url)


def _linked_id(link: _Link | None) -> str | None:
    """link_id for a link the typed decoder read (its URL is a str already): the per-record path."""
    if link is None:
        return None
    url = link.links.self_
    if not url:
        raise ValueError("link object without links.self")
    return _id_from_url(url)


@lru_cache(maxsize=4096)  # an appointment's practitioner, type and business links repeat all the time
def _id_from_url(url: str) -> str:
    """The last segment of the URL's path (no query or fragment), without urlsplit's cost."""
    path = url.partition("?")[0].partition("#")[0].rstrip("/")
    return cliniko_id(path.rpartition("/")[2])


def _text(value: Any) -> str | None:
    if value.__class__ is str:
        return value or None  # type: ignore[no-any-return]
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # e.g. a post code sent as a number
    raise TypeError(f"expected text, got {type(value).__name__}")


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"expected true/false, got {type(value).__name__}")


def _phones(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
        raise TypeError("patient_phone_numbers is not a list of objects")
    phones = []
    for phone in value:
        number = _text(phone.get("number"))
        if number is None:
            continue
        phones.append({
            "phone_type": _text(phone.get("phone_type")),
            "number": number,
            "normalized_number": _text(phone.get("normalized_number")),
        })
    return phones


# ------------------------------------------------------------------------------------------------
# Resources: (column, payload field, converter) tables
# ------------------------------------------------------------------------------------------------

Spec = tuple[tuple[str, str, Callable[[Any], Any]], ...]
Derive = Callable[[dict[str, Any], Any], None]  # (values so far, the decoded record): adds columns
Step = Callable[[Any], Any] | None  # None: the value is the column's value as it is


def _blank_to_none(value: str | None) -> str | None:
    return value or None


def _datetime_text(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is UTC else parse_datetime(value)  # UTC ("Z") is what Cliniko sends


# What the typed decoder checks for a converter's field, and what is left to do to a value that passed.
# A date-time stays text there: Cliniko also sends "" for none, which a datetime type would refuse.
_TYPED: dict[Callable[[Any], Any], tuple[Any, Step]] = {
    _text: (str | None, _blank_to_none),
    parse_datetime: (str | None, _datetime_text),
    parse_date: (str | None, parse_date),
    link_id: (_Link | None, _linked_id),
    _int: (int | None, None),
    _bool: (bool | None, None),
}

# Every resource has these.
_COMMON: Spec = (
    ("cliniko_created_at", "created_at", parse_datetime),
    ("cliniko_updated_at", "updated_at", parse_datetime),
    ("archived_at", "archived_at", parse_datetime),
    ("deleted_at", "deleted_at", parse_datetime),
)


@dataclass(frozen=True)
class _Resource:
    """How one resource's payloads become columns."""

    id_column: str
    spec: Spec
    derive: Derive | None = None
    derive_fields: tuple[str, ...] = ()  # payload fields only `derive` reads
    record_type: Any = field(init=False)
    decoder: msgspec.json.Decoder[Any] = field(init=False)
    typed_decoder: msgspec.json.Decoder[Any] = field(init=False)
    typed_columns: Callable[[Any], dict[str, Any]] = field(init=False)  # a typed record's columns
    read: Callable[[Any], tuple[Any, ...]] = field(init=False)  # the spec's fields, in spec order

    def __post_init__(self) -> None:
        names = tuple(dict.fromkeys(("id", *(name for _, name, _ in self.spec), *self.derive_fields)))
        # Untyped fields: the converters judge the values. gc=False: records hold no reference cycles.
        record_type = msgspec.defstruct(f"{self.id_column}_record", [(n, Any, None) for n in names], gc=False)
        # The same fields typed (_TYPED): msgspec checks them while decoding, in C, so what is left per
        # field is little or nothing, and link objects become two small structs instead of two dicts.
        # This is the path of every well-formed record: about half the CPU of the converters.
        # A converter outside _TYPED keeps its field untyped and stays the field's step.
        typed_spec = [(column, name, *_TYPED.get(convert, (Any, convert)))
                      for column, name, convert in self.spec]
        types = {name: field_type for _, name, field_type, _ in typed_spec}
        typed_type = msgspec.defstruct(f"{self.id_column}_typed_record",
                                       [(n, types.get(n, Any), None) for n in names], gc=False)
        steps = tuple((column, name, step) for column, name, _, step in typed_spec)
        object.__setattr__(self, "record_type", record_type)
        object.__setattr__(self, "decoder", msgspec.json.Decoder(record_type))
        object.__setattr__(self, "typed_decoder", msgspec.json.Decoder(typed_type))
        object.__setattr__(self, "typed_columns", _compile_columns(f"{self.id_column}_columns", steps))
        object.__setattr__(self, "read", attrgetter(*(name for _, name, _ in self.spec)))

    def decode(self, payload: Any) -> tuple[Any, Any, bool]:
        """(the record's mapped fields, what `raw` stores, whether they are typed) from JSON bytes or a
        decoded dict. A record the typed decoder refuses is decoded untyped: its converters say why."""
        if payload.__class__ is msgspec.Raw or isinstance(payload, bytes | bytearray | memoryview):
            try:
                return self.typed_decoder.decode(payload), bytes(payload), True
            except msgspec.ValidationError:
                pass
            try:
                return self.decoder.decode(payload), bytes(payload), False
            except msgspec.ValidationError:  # valid JSON (the page decoded), but not an object
                payload = orjson.loads(bytes(payload))
        if isinstance(payload, dict):
            fields = {name: payload.get(name) for name in self.record_type.__struct_fields__}
            return self.record_type(**fields), payload, False
        raise RecordValidationError(None, f"expected an object, got {type(payload).__name__}")


def _compile_columns(name: str, steps: tuple[tuple[str, str, Step], ...]) -> Callable[[Any], dict[str, Any]]:
    """`record -> {column: value}` for a typed record, written out as one dict display (one attribute
    read and at most one call per column), as dataclasses write their __init__: a third of the CPU of a
    loop over the table, on the path every record of every sync takes."""
    namespace: dict[str, Any] = {}
    items = []
    for i, (column, field_name, step) in enumerate(steps):
        if not field_name.isidentifier():
            raise ValueError(f"payload field {field_name!r} is not an identifier")
        value = f"record.{field_name}"
        if step is not None:
            namespace[f"step_{i}"] = step
            value = f"step_{i}({value})"
        items.append(f"{column!r}: {value}")
    source = f"def {name}(record):\n    return {{{', '.join(items)}}}\n"
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 - built from the spec's names only
    return namespace[name]  # type: ignore[no-any-return]


def _record_id(raw_id: Any) -> str:
    try:
        return cliniko_id(raw_id)
    except (TypeError, ValueError):
        shown = str(raw_id)[:32] if raw_id != "" and type(raw_id) in (str, int) else None
        reason = "missing id" if raw_id in (None, "") else "id is not numeric"
        raise RecordValidationError(shown, reason) from None


def _parse(payload: Any, resource: _Resource) -> dict[str, Any]:
    """Shared frame: decode, read the id, convert every field (naming the field that fails), derive."""
    record, raw, typed = resource.decode(payload)
    record_id = _record_id(record.id)
    try:
        if typed:
            values = resource.typed_columns(record)
        else:
            pairs = zip(resource.spec, resource.read(record), strict=True)
            values = {column: convert(value) for (column, _, convert), value in pairs}
    except (TypeError, ValueError):
        # Which field, for the message (the converters take typed values as well).
        for (_, name, convert), value in zip(resource.spec, resource.read(record), strict=True):
            try:
                convert(value)
            except (TypeError, ValueError) as exc:
                raise RecordValidationError(record_id, f"{name}: {exc}") from None
        raise
    values[resource.id_column] = record_id
    if resource.derive is not None:
        try:
            resource.derive(values, record)
        except (TypeError, ValueError) as exc:
            raise RecordValidationError(record_id, str(exc)) from None
    values["raw"] = raw
    return values


def _primary_phone(values: dict[str, Any], record: Any) -> None:
    phones = values["phone_numbers"]
    values["primary_phone"] = phones[0]["number"] if phones else None


def _practitioner_names(values: dict[str, Any], record: Any) -> None:
    if not values["display_name"]:  # older payloads call it `label`; else the names
        try:
            label = _text(record.label)
        except TypeError as exc:
            raise ValueError(f"label: {exc}") from None
        names = (values["first_name"], values["last_name"])
        values["display_name"] = label or " ".join(n for n in names if n) or None


_PATIENT = _Resource("cliniko_patient_id", (
    ("title", "title", _text),
    ("first_name", "first_name", _text),
    ("last_name", "last_name", _text),
    ("preferred_first_name", "preferred_first_name", _text),
    ("email", "email", _text),
    ("date_of_birth", "date_of_birth", parse_date),
    ("sex", "sex", _text),
    ("phone_numbers", "patient_phone_numbers", _phones),
    ("address_1", "address_1", _text),
    ("address_2", "address_2", _text),
    ("address_3", "address_3", _text),
    ("city", "city", _text),
    ("state", "state", _text),
    ("post_code", "post_code", _text),
    ("country", "country", _text),
    ("merged_at", "merged_at", parse_datetime),
    ("merged_into_cliniko_patient_id", "merged_with_patient", link_id),
    *_COMMON,
), derive=_primary_phone)

_APPOINTMENT = _Resource("cliniko_appointment_id", (
    ("cliniko_patient_id", "patient", link_id),
    ("cliniko_practitioner_id", "practitioner", link_id),
    ("cliniko_appointment_type_id", "appointment_type", link_id),
    ("cliniko_business_id", "business", link_id),
    ("starts_at", "starts_at", parse_datetime),
    ("ends_at", "ends_at", parse_datetime),
    ("cancelled_at", "cancelled_at", parse_datetime),
    ("cancellation_reason", "cancellation_reason", _int),
    ("cancellation_reason_description", "cancellation_reason_description", _text),
    ("did_not_arrive", "did_not_arrive", _bool),
    ("patient_arrived", "patient_arrived", _bool),
    *_COMMON,
))

_APPOINTMENT_TYPE = _Resource("cliniko_appointment_type_id", (
    ("name", "name", _text),
    ("category", "category", _text),
    ("color", "color", _text),
    ("duration_in_minutes", "duration_in_minutes", _int),
    *_COMMON,
))

_PRACTITIONER = _Resource("cliniko_practitioner_id", (
    ("title", "title", _text),
    ("first_name", "first_name", _text),
    ("last_name", "last_name", _text),
    ("display_name", "display_name", _text),
    ("designation", "designation", _text),
    *_COMMON,
), derive=_practitioner_names, derive_fields=("label",))

_BUSINESS = _Resource("cliniko_business_id", (
    ("business_name", "business_name", _text),
    ("time_zone_identifier", "time_zone_identifier", _text),
    *_COMMON,
))


def parse_patient(p: Any) -> dict[str, Any]:
    """Columns of `Patient`. A merged patient keeps the surviving patient's id in merged_into_…"""
    return _parse(p, _PATIENT)


def parse_appointment(a: Any) -> dict[str, Any]:
    """Columns of `Appointment` from an individual appointment (relations from its link objects)."""
    return _parse(a, _APPOINTMENT)


def parse_appointment_type(t: Any) -> dict[str, Any]:
    return _parse(t, _APPOINTMENT_TYPE)


def parse_practitioner(p: Any, active: bool) -> dict[str, Any]:
    """`active` says which list it came from: /practitioners (True) or /practitioners/inactive (False)."""
    values = _parse(p, _PRACTITIONER)
    values["active"] = active
    return values


def parse_business(b: Any) -> dict[str, Any]:
    return _parse(b, _BUSINESS)
