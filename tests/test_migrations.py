"""The schema comes from Alembic, matches the models, and an old database is refused clearly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from db import SchemaOutOfDate, create_db_engine, create_schema, schema_head


def test_the_migrated_schema_is_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == schema_head()
        assert compare_metadata(context, SQLModel.metadata) == []


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("UPDATE alembic_version SET version_num = '0000'", "has revision 0000"),
        ("DELETE FROM alembic_version", "has tables but no migration record"),
    ],
)
def test_a_database_at_another_revision_is_refused_with_the_command(
    database_url: str, statement: str, says: str
) -> None:
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    with pytest.raises(SchemaOutOfDate) as refused:
        create_schema(engine)
    engine.dispose()
    message = str(refused.value)
    assert says in message
    assert "alembic upgrade head" in message and schema_head() in message
