"""Mirrored tables without a foreign key to organizations; a trigger deletes an organization's rows

Revision ID: 0006_mirror_tables_without_fk
Revises: 0005_verbatim_payloads
Create Date: 2026-12-01 23:10:00

The five tables a sync bulk-loads (patients, appointments, appointment types, practitioners, businesses)
checked `organization_id` against organizations for every row written: a quarter of PostgreSQL's work
when it loads a clinic. Only the sync engine writes these rows, always for the organization whose
sync_logs row (which keeps its foreign key) it holds, so the check guarded nothing. What the key also did,
deleting a clinic's mirrored data with the clinic, a trigger on organizations now does, on both databases.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_mirror_tables_without_fk"
down_revision: str | None = "0005_verbatim_payloads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIRRORED_TABLES = ("patients", "appointments", "appointment_types", "practitioners", "businesses")
TRIGGER = "organizations_delete_mirrored_rows"
# SQLite's foreign keys have no names: batch mode names them by this convention to drop them.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _deletes() -> str:
    return "".join(f"DELETE FROM {table} WHERE organization_id = OLD.id; " for table in MIRRORED_TABLES)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in MIRRORED_TABLES:
        if postgresql:
            op.drop_constraint(f"{table}_organization_id_fkey", table, type_="foreignkey")
        else:
            with op.batch_alter_table(table, naming_convention=NAMING) as batch:
                batch.drop_constraint(f"fk_{table}_organization_id_organizations", type_="foreignkey")
    if postgresql:
        op.execute(f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_deletes()}RETURN OLD; END $$")
        op.execute(f"CREATE TRIGGER {TRIGGER} AFTER DELETE ON organizations "
                   f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()")
    else:
        op.execute(f"CREATE TRIGGER {TRIGGER} AFTER DELETE ON organizations FOR EACH ROW "
                   f"BEGIN {_deletes()}END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER {TRIGGER}" + (" ON organizations" if postgresql else ""))
    if postgresql:
        op.execute(f"DROP FUNCTION {TRIGGER}()")
    for table in MIRRORED_TABLES:
        # Rows of organizations that no longer exist would block the key: they go first.
        op.execute(f"DELETE FROM {table} WHERE organization_id NOT IN (SELECT id FROM organizations)")
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(f"{table}_organization_id_fkey", "organizations", ["organization_id"],
                                     ["id"], ondelete="CASCADE")
