"""Cliniko payloads as json, not jsonb, on PostgreSQL: stored as sent and much cheaper to bulk-load

Revision ID: 0005_verbatim_payloads
Revises: 0004_drop_scheduler_leases
Create Date: 2026-12-01 19:00:00

`jsonb` parses and re-encodes every payload on write, which was the largest single cost of loading a
clinic; nothing queries inside these columns. SQLite stores JSON as text either way: nothing to do there.
The ALTER rewrites each table once (seconds for a clinic of 100,000 patients).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_verbatim_payloads"
down_revision: str | None = "0004_drop_scheduler_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYLOAD_COLUMNS = (
    ("patients", "raw"),
    ("patients", "phone_numbers"),
    ("appointments", "raw"),
    ("appointment_types", "raw"),
    ("practitioners", "raw"),
    ("businesses", "raw"),
    ("sync_record_errors", "raw"),
)


def _alter(type_name: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in PAYLOAD_COLUMNS:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {type_name} USING "{column}"::{type_name}')


def upgrade() -> None:
    _alter("json")


def downgrade() -> None:
    _alter("jsonb")
