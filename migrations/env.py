"""Alembic environment: the app's tables, on the database the app is configured for."""

from typing import Any

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

import models  # noqa: F401  (registers every table)
from core.money import ScaledDecimal
from core.settings import get_settings
from db import create_db_engine

config = context.config


def render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    # Migrations spell plain column types, so they never depend on this code base's classes.
    if kind == "type" and isinstance(item, ScaledDecimal):
        return "sa.BigInteger()"
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    options: dict[str, Any] = {
        "target_metadata": SQLModel.metadata,
        "render_item": render_item,
        "render_as_batch": True,  # SQLite alters tables by copying them
        "compare_type": True,
    }
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = create_db_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
