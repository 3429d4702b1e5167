"""SQLModel tables: what Alembic migrates. Nothing here talks to the network or the web.

Conventions
- Every Cliniko id is text (`cliniko_*_id`): Cliniko sends 64-bit ids as strings and they must never pass
  through a float.
- Synced tables keep the fields staff use as columns plus the whole payload in `raw`, so nothing Cliniko
  sends is lost. Cliniko owns those columns; the sync overwrites them. Staff-owned data lives elsewhere.
- Times are aware UTC datetimes (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from sync_core.types import JSONType, UTCDateTime, VerbatimJSON, utcnow


def _ts(nullable: bool = True, **kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, **kw)


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_type=JSONType, nullable=nullable)


def _payload() -> Any:
    """A part of a Cliniko payload, stored verbatim (see VerbatimJSON)."""
    return Field(default=None, sa_type=VerbatimJSON, nullable=True)


# --------------------------------------------------------------------------------------------------
# Organizations and their Cliniko connection
# --------------------------------------------------------------------------------------------------


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: str = Field(primary_key=True, max_length=64)  # "org_" + 27 base62 characters
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ClinikoConnection(SQLModel, table=True):
    """One per organization: the encrypted key and how this clinic is synced."""

    __tablename__ = "cliniko_connections"

    organization_id: str = Field(primary_key=True, foreign_key="organizations.id", ondelete="CASCADE")
    api_key_encrypted: str  # Fernet token; the plain key is never stored
    api_key_hint: str = Field(max_length=16)  # "…a1b2-au4", shown in settings instead of the key
    shard: str = Field(max_length=16)
    base_url_override: str | None = Field(default=None, max_length=500)

    sync_enabled: bool = Field(default=True)  # the scheduler syncs this clinic
    sync_interval_minutes: int | None = None  # None: the global SYNC_INTERVAL_MINUTES
    active_window_days: int | None = None  # None: the global ACTIVE_WINDOW_DAYS
    consecutive_failures: int = Field(default=0)
    paused_reason: str | None = None  # set when the schedule paused itself after repeated failures
    last_scheduled_at: datetime | None = _ts()  # claimed by one worker per due slot (scheduler)
    last_reconciled_at: datetime | None = _ts()  # the daily comprehensive sync
    resumed_at: datetime | None = _ts()  # failures before this do not count towards pausing again

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --------------------------------------------------------------------------------------------------
# Mirrored Cliniko resources
# --------------------------------------------------------------------------------------------------


class _SyncedColumns(SQLModel):
    """Bookkeeping every mirrored table shares."""

    # No foreign key (migration 0006): checking it cost a quarter of PostgreSQL's work per row loaded,
    # and only the sync writes these rows, for the organization it holds a sync_logs row of. Deleting an
    # organization deletes them through the trigger organizations_delete_mirrored_rows.
    organization_id: str = Field(index=False)
    cliniko_created_at: datetime | None = _ts()
    cliniko_updated_at: datetime | None = _ts()
    archived_at: datetime | None = _ts()
    deleted_at: datetime | None = _ts()
    first_synced_at: datetime | None = _ts()
    last_synced_at: datetime | None = _ts()
    last_sync_id: str | None = Field(default=None, max_length=120)
    raw: dict[str, Any] | None = _payload()


class Patient(_SyncedColumns, table=True):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("organization_id", "cliniko_patient_id", name="patients_org_cliniko_patient_unique"),
        Index("ix_patients_org_name", "organization_id", "last_name", "first_name"),
        Index("ix_patients_org_updated", "organization_id", "cliniko_updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cliniko_patient_id: str = Field(max_length=32)
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    preferred_first_name: str | None = None
    email: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    phone_numbers: list[dict[str, Any]] | None = _payload()
    primary_phone: str | None = None  # first number, for search and tables
    address_1: str | None = None
    address_2: str | None = None
    address_3: str | None = None
    city: str | None = None
    state: str | None = None
    post_code: str | None = None
    country: str | None = None
    merged_at: datetime | None = _ts()
    merged_into_cliniko_patient_id: str | None = Field(default=None, max_length=32)


class Appointment(_SyncedColumns, table=True):
    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "cliniko_appointment_id", name="appointments_org_cliniko_appointment_unique"
        ),
        Index("ix_appointments_org_starts", "organization_id", "starts_at"),
        Index("ix_appointments_org_patient", "organization_id", "cliniko_patient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cliniko_appointment_id: str = Field(max_length=32)
    cliniko_patient_id: str | None = Field(default=None, max_length=32)
    cliniko_practitioner_id: str | None = Field(default=None, max_length=32)
    cliniko_appointment_type_id: str | None = Field(default=None, max_length=32)
    cliniko_business_id: str | None = Field(default=None, max_length=32)
    starts_at: datetime | None = _ts()
    ends_at: datetime | None = _ts()
    cancelled_at: datetime | None = _ts()
    cancellation_reason: int | None = None
    cancellation_reason_description: str | None = None
    did_not_arrive: bool | None = None
    patient_arrived: bool | None = None


class AppointmentType(_SyncedColumns, table=True):
    __tablename__ = "appointment_types"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "cliniko_appointment_type_id", name="appointment_types_org_cliniko_unique"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    cliniko_appointment_type_id: str = Field(max_length=32)
    name: str | None = None
    category: str | None = None
    color: str | None = None
    duration_in_minutes: int | None = None


class Practitioner(_SyncedColumns, table=True):
    __tablename__ = "practitioners"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "cliniko_practitioner_id", name="practitioners_org_cliniko_unique"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    cliniko_practitioner_id: str = Field(max_length=32)
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    designation: str | None = None
    active: bool = Field(default=True)  # False when listed by /practitioners/inactive


class Business(_SyncedColumns, table=True):
    __tablename__ = "businesses"
    __table_args__ = (
        UniqueConstraint("organization_id", "cliniko_business_id", name="businesses_org_cliniko_unique"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cliniko_business_id: str = Field(max_length=32)
    business_name: str | None = None
    time_zone_identifier: str | None = None


# --------------------------------------------------------------------------------------------------
# Sync bookkeeping
# --------------------------------------------------------------------------------------------------


class SyncStatus(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_SYNC_STATUSES = (SyncStatus.STARTING.value, SyncStatus.RUNNING.value)
_ACTIVE_SYNC_WHERE = text("status IN ('starting', 'running')")


class SyncLog(SQLModel, table=True):
    """One row per sync: seed 001's columns plus what the engine needs. Updated live while it runs."""

    __tablename__ = "sync_logs"
    __table_args__ = (
        # One running sync per organization, enforced by the database (works across processes).
        Index(
            "sync_logs_one_active_per_org",
            "organization_id",
            unique=True,
            sqlite_where=_ACTIVE_SYNC_WHERE,
            postgresql_where=_ACTIVE_SYNC_WHERE,
        ),
        Index("ix_sync_logs_org_started", "organization_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", ondelete="CASCADE")
    operation_type: str = Field(
        max_length=50
    )  # full_patients | comprehensive | incremental | active_patients
    status: str = Field(max_length=20)  # SyncStatus
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    completed_at: datetime | None = _ts()
    records_processed: int = Field(default=0)
    records_success: int = Field(default=0)
    records_failed: int = Field(default=0)
    # The column is called `metadata` (seed 001); the attribute cannot be, SQLAlchemy reserves it.
    sync_metadata: dict[str, Any] | None = Field(default=None, sa_column=Column("metadata", JSONType))
    error_details: str | None = None

    sync_id: str = Field(max_length=120, unique=True)  # sync_org_…_20250630_120000
    mode: str = Field(max_length=50)  # the mode as requested (seed names accepted, see engine.modes)
    triggered_by: str = Field(default="manual", max_length=50)  # manual | api | scheduler | cli | ...
    error_type: str | None = Field(default=None, max_length=50)  # CLINIKO_AUTH_FAILED, ...
    heartbeat_at: datetime | None = _ts()
    cancel_requested_at: datetime | None = _ts()


class SyncRecordError(SQLModel, table=True):
    """A record that failed validation: quarantined with its payload while the sync goes on."""

    __tablename__ = "sync_record_errors"
    __table_args__ = (Index("ix_sync_record_errors_sync", "sync_log_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sync_log_id: int = Field(foreign_key="sync_logs.id", ondelete="CASCADE")
    organization_id: str = Field(foreign_key="organizations.id", ondelete="CASCADE")
    resource: str = Field(max_length=50)  # patients, appointments, ...
    cliniko_id: str | None = Field(default=None, max_length=32)
    message: str  # "Patient ID 12345: reason" (no PHI beyond ids)
    raw: dict[str, Any] | None = _payload()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SyncWatermark(SQLModel, table=True):
    """Per organization and resource: the newest `updated_at` safely stored (incremental cursor)."""

    __tablename__ = "sync_watermarks"

    organization_id: str = Field(primary_key=True, foreign_key="organizations.id", ondelete="CASCADE")
    resource: str = Field(primary_key=True, max_length=50)
    cursor_updated_at: datetime | None = _ts()
    last_sync_id: str | None = Field(default=None, max_length=120)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --------------------------------------------------------------------------------------------------
# Staff, sessions, API tokens
# --------------------------------------------------------------------------------------------------


class Role(StrEnum):
    ADMIN = "admin"
    PRACTITIONER = "practitioner"
    ASSISTANT = "assistant"


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    email: str = Field(max_length=320, unique=True)  # stored lower-case
    full_name: str | None = Field(default=None, max_length=200)
    password_hash: str  # argon2id
    role: str = Field(max_length=20)  # Role
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_login_at: datetime | None = _ts()


class StaffSession(SQLModel, table=True):
    """A browser login. The browser holds the token; only its SHA-256 is stored."""

    __tablename__ = "staff_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_users.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ApiToken(SQLModel, table=True):
    """A REST token: scoped to one organization, or admin (all organizations). Stored as SHA-256."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: str | None = Field(default=None, foreign_key="organizations.id", ondelete="CASCADE")
    is_admin: bool = Field(default=False)
    name: str = Field(default="", max_length=200)
    token_prefix: str = Field(max_length=16)  # first characters, to recognise a token in lists
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()


# --------------------------------------------------------------------------------------------------
# The clinic's own records (seed 004): staff-owned, versioned for conflict detection
# --------------------------------------------------------------------------------------------------


class _StaffOwned(SQLModel):
    """Bookkeeping of every staff-owned record. `version` increases by one on each change."""

    organization_id: str = Field(foreign_key="organizations.id", ondelete="CASCADE")
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str | None = Field(default=None, max_length=320)  # the staff member's name or email


class RecordAnnotation(_StaffOwned, table=True):
    """Staff notes, tags and a follow-up flag on a synced patient or appointment (Cliniko's fields stay
    read-only; these are ours and the sync never touches them)."""

    __tablename__ = "record_annotations"
    __table_args__ = (
        UniqueConstraint("organization_id", "record_type", "cliniko_id", name="record_annotations_unique"),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=20)  # patient | appointment
    cliniko_id: str = Field(max_length=32)
    notes: str = Field(default="")
    tags: list[str] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    follow_up: bool = Field(default=False)


class TreatmentRecord(_StaffOwned, table=True):
    __tablename__ = "treatment_records"
    __table_args__ = (Index("ix_treatment_records_org_patient", "organization_id", "cliniko_patient_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cliniko_patient_id: str = Field(max_length=32)
    treated_on: date
    treatment: str = Field(max_length=200)
    notes: str = Field(default="")
    practitioner_name: str | None = Field(default=None, max_length=200)


class InventoryItem(_StaffOwned, table=True):
    __tablename__ = "inventory_items"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="inventory_items_org_name_unique"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    unit: str = Field(default="units", max_length=40)
    quantity: int = Field(default=0)
    low_stock_threshold: int = Field(default=0)
    notes: str = Field(default="")


class Referral(_StaffOwned, table=True):
    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_org_patient", "organization_id", "cliniko_patient_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cliniko_patient_id: str = Field(max_length=32)
    referred_to: str = Field(max_length=200)
    reason: str = Field(default="")
    status: str = Field(default="draft", max_length=20)  # draft | sent | accepted | completed | declined
    referred_on: date
