"""parse_* against Cliniko's documented payloads (../shared/cliniko-examples) and malformed records."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest

from sync_core.cliniko.parse import (
    RecordValidationError,
    link_id,
    parse_appointment,
    parse_appointment_type,
    parse_business,
    parse_date,
    parse_datetime,
    parse_patient,
    parse_practitioner,
)
from tests.fixtures.examples import example as example_path


def example(name: str) -> dict:
    return json.loads(example_path(name).read_text())


def test_legacy_patient_list_with_integer_id_and_empty_datetimes() -> None:
    payload = example("legacy-docs_patients_list.json")["patients"][0]
    row = parse_patient(payload)
    assert row["cliniko_patient_id"] == "1"
    assert row["archived_at"] is None and row["deleted_at"] is None  # "" means null
    assert row["cliniko_created_at"] == datetime(2013, 3, 26, 14, 0, tzinfo=UTC)
    assert row["date_of_birth"] == date(2001, 5, 26)
    assert row["phone_numbers"][0]["number"] == "61444444444"
    assert row["primary_phone"] == "61444444444"
    assert row["address_2"] is None
    assert row["raw"] is payload


def test_archived_merged_patient_points_at_the_survivor() -> None:
    row = parse_patient(example("legacy-docs_patients_archived_list.json")["patients"][0])
    assert row["archived_at"] == datetime(2013, 6, 5, 14, 37, 18, tzinfo=UTC)
    assert row["merged_at"] == row["archived_at"]
    assert row["merged_into_cliniko_patient_id"] == "1001"


def test_real_2024_appointment_keeps_19_digit_ids_from_links() -> None:
    row = parse_appointment(example("pipedream_booking_individual_appointment_au4_2024.json"))
    assert row["cliniko_appointment_id"] == "1390726237298631770"
    assert row["cliniko_patient_id"] == "1390710863102485699"
    assert row["cliniko_practitioner_id"] == "1390053863163176768"
    assert row["cliniko_appointment_type_id"] == "1390053865100944805"
    assert row["cliniko_business_id"] == "1390053865344214699"
    assert row["starts_at"] == datetime(2024, 4, 2, 14, 45, tzinfo=UTC)
    assert row["cancelled_at"] is None and row["cancellation_reason_description"] is None
    assert row["did_not_arrive"] is False


@pytest.mark.parametrize(
    "name",
    [
        "legacy-docs_individual_appointments_list.json",
        "legacy-docs_individual_appointments_cancelled_list.json",
    ],
)
def test_legacy_appointment_lists(name: str) -> None:
    for payload in example(name)["individual_appointments"]:
        row = parse_appointment(payload)
        assert row["cliniko_appointment_id"].isdigit()
        assert row["cliniko_patient_id"] is not None
        if "cancelled" in name:
            assert row["cancelled_at"] is not None


def test_lookups_from_documented_lists() -> None:
    t = parse_appointment_type(example("legacy-docs_appointment_types_list.json")["appointment_types"][0])
    assert (t["cliniko_appointment_type_id"], t["name"], t["duration_in_minutes"]) == (
        "514810976034364376",
        "Initial Consultation",
        60,
    )
    p = parse_practitioner(example("legacy-docs_practitioners_list.json")["practitioners"][0], active=False)
    assert (p["cliniko_practitioner_id"], p["display_name"], p["active"]) == (
        "514810972972521916",
        "Randy Savage",
        False,
    )
    b = parse_business(example("legacy-docs_businesses_list.json")["businesses"][0])
    assert (b["cliniko_business_id"], b["business_name"]) == ("514810976554457178", "Healthy Times")


def test_portal_sample_with_placeholder_id_is_quarantined() -> None:
    # The generated portal sample has "id": "string": exactly what the engine must quarantine.
    with pytest.raises(RecordValidationError) as err:
        parse_appointment(example("portal-openapi-sample_individual_appointment.json"))
    assert err.value.reason == "id is not numeric"


def _patient() -> dict:
    return copy.deepcopy(example("legacy-docs_patients_list.json")["patients"][0])


@pytest.mark.parametrize(
    ("change", "reason_part"),
    [
        ({"date_of_birth": "31/02/1980"}, "date_of_birth"),
        ({"date_of_birth": "1980-02-31"}, "date_of_birth"),
        ({"updated_at": "yesterday"}, "updated_at"),
        ({"patient_phone_numbers": "0412"}, "patient_phone_numbers"),
        ({"first_name": {"x": 1}}, "first_name"),
        ({"merged_with_patient": {"links": {"self": "https://x/v1/patients/abc"}}}, "merged_with_patient"),
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["dict", "bytes"])
def test_malformed_fields_raise_with_the_id(change: dict, reason_part: str, as_bytes: bool) -> None:
    # From bytes, a record the typed decoder accepts can still fail a field (a date that does not exist);
    # one it refuses is decoded again untyped. Either way the message names the field.
    payload = _patient() | change
    with pytest.raises(RecordValidationError) as err:
        parse_patient(json.dumps(payload).encode() if as_bytes else payload)
    assert err.value.cliniko_id == "1"
    assert reason_part in err.value.reason
    assert "Peter" not in str(err.value)  # no patient data in messages


@pytest.mark.parametrize(
    ("raw_id", "reported"),
    [(None, None), ("", None), ("x12", "x12"), (True, None), (1.5, None),
     ("12\n", "12\n"), ("\uff11\uff12", "\uff11\uff12"), ("1" * 21, "1" * 21)],
)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["dict", "bytes"])
def test_missing_or_non_numeric_id(raw_id: object, reported: str | None, as_bytes: bool) -> None:
    payload = _patient() | {"id": raw_id}
    with pytest.raises(RecordValidationError) as err:
        parse_patient(json.dumps(payload).encode() if as_bytes else payload)
    assert err.value.cliniko_id == reported


@pytest.mark.parametrize(
    "change",
    [
        {"created_at": "", "archived_at": ""},  # Cliniko's "" for no date-time
        {"merged_with_patient": ""},  # a link left empty
        {"first_name": ""},
        {"post_code": 3000},  # a number where text is expected
        {"updated_at": "2024-01-02T13:04:05+10:00"},  # an offset other than Z
        {"merged_with_patient": {"links": {"self": "https://x/v1/patients/7"}, "extra": 1}},
    ],
)
def test_unusual_but_valid_fields_read_the_same_from_bytes(change: dict) -> None:
    payload = _patient() | change
    from_bytes, from_dict = parse_patient(json.dumps(payload).encode()), parse_patient(payload)
    from_bytes.pop("raw"), from_dict.pop("raw")
    assert from_bytes == from_dict


def test_non_object_record() -> None:
    with pytest.raises(RecordValidationError):
        parse_business(["not", "an", "object"])


def test_field_helpers() -> None:
    assert parse_datetime("") is None and parse_datetime(None) is None
    assert parse_datetime("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2024-01-02T13:04:05+10:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2024-01-02T03:04:05.123Z").microsecond == 123000
    assert parse_date("") is None and parse_date("1980-05-26") == date(1980, 5, 26)
    assert link_id(None) is None
    assert link_id({"links": {"self": "https://api.au4.cliniko.com/v1/patients/9223372036854775807"}}) == (
        "9223372036854775807"
    )
    with pytest.raises(ValueError):
        link_id({"links": {}})
    bad = {"links": {"self": "https://api.au4.cliniko.com/v1/practitioners/12a"}}
    for _ in range(2):  # ids are remembered per URL; a refusal is not
        with pytest.raises(ValueError):
            link_id(bad)
    assert link_id({"links": {"self": "https://x/v1/businesses/7?x=1"}}) == "7"


@pytest.mark.parametrize(
    ("parse", "name", "key"),
    [
        (parse_patient, "legacy-docs_patients_list.json", "patients"),
        (parse_appointment, "legacy-docs_individual_appointments_list.json", "individual_appointments"),
        (parse_appointment_type, "legacy-docs_appointment_types_list.json", "appointment_types"),
        (lambda p: parse_practitioner(p, True), "legacy-docs_practitioners_list.json", "practitioners"),
        (parse_business, "legacy-docs_businesses_list.json", "businesses"),
    ],
)
def test_a_payload_as_bytes_gives_the_same_columns_and_keeps_the_bytes(parse, name, key) -> None:
    # The client hands the engine each record's JSON undecoded; tests and callers may pass dicts.
    for payload in example(name)[key]:
        sent = json.dumps(payload, indent=1).encode()  # spacing a re-encoding would not keep
        from_bytes, from_dict = parse(sent), parse(payload)
        assert from_bytes.pop("raw") == sent and from_dict.pop("raw") is payload
        assert from_bytes == from_dict


def test_a_record_that_is_not_an_object_is_refused_from_bytes_too() -> None:
    for raw in (b"[1, 2]", b'"text"', b"null"):
        with pytest.raises(RecordValidationError) as err:
            parse_patient(raw)
        assert err.value.cliniko_id is None and err.value.reason.startswith("expected an object, got ")
