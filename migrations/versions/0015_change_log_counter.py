"""The change log numbered by the write counter row, in commit order, instead of a sequence

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:00:00

A sequence hands out its numbers at insert, not at commit: on PostgreSQL a worker that read
change 8 while change 7 was still uncommitted moved past 7 for good, and kept that
customer's old answers. The log now takes its numbers from a second column of the feed's
counter row (``bank_event_counter.changes_last``), held until commit like the feed's own,
so a number is visible only once every smaller one is. The triggers that log other
programs' writes take theirs the same way; the sequence goes, so that nothing can insert a
number out of turn.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED_LOGGER = """
CREATE OR REPLACE FUNCTION bank_log_unlogged_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
BEGIN
    IF coalesce(current_setting('bank.change_logged', true), '') <> 'on' THEN
        UPDATE bank_event_counter SET changes_last = changes_last + 1 WHERE id = 1
            RETURNING changes_last INTO taken;
        INSERT INTO changes (seq, subject_oid) VALUES (taken, NULL);
    END IF;
    RETURN NULL;
END $$
"""

SEQUENCED_LOGGER = """
CREATE OR REPLACE FUNCTION bank_log_unlogged_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('bank.change_logged', true), '') <> 'on' THEN
        INSERT INTO changes (subject_oid) VALUES (NULL);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    with op.batch_alter_table("bank_event_counter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changes_last", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE bank_event_counter SET changes_last = (SELECT coalesce(max(seq), 0) FROM changes)"
    )
    if op.get_bind().dialect.name != "postgresql":
        # SQLite serialises writes: its row numbers are in commit order already.
        return
    op.execute("ALTER TABLE changes ALTER COLUMN seq DROP DEFAULT")
    op.execute("DROP SEQUENCE IF EXISTS changes_seq_seq")
    op.execute(COUNTED_LOGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE changes_seq_seq OWNED BY changes.seq")
        op.execute(
            "SELECT setval('changes_seq_seq', (SELECT coalesce(max(seq), 0) + 1 FROM changes), "
            "false)"
        )
        op.execute("ALTER TABLE changes ALTER COLUMN seq SET DEFAULT nextval('changes_seq_seq')")
        op.execute(SEQUENCED_LOGGER)
    with op.batch_alter_table("bank_event_counter", schema=None) as batch_op:
        batch_op.drop_column("changes_last")
