"""Drop every table, create the schema again and reload the sample data.

Everything registered since the last reset is lost. Stop running API servers
first when the database is PostgreSQL (they hold connections open).
"""

import argparse

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from core.settings import add_database_url_option
from db import create_db_engine, create_schema, drop_schema
from synthetic.seeding import seed_sample_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_url_option(parser, "the database to reset")
    parser.add_argument(
        "--empty", action="store_true", help="leave the new schema empty: no sample data"
    )
    args = parser.parse_args()

    engine = create_db_engine(args.database_url)
    drop_schema(engine)
    print(f"Dropped every table in {engine.url.render_as_string(hide_password=True)}")
    create_schema(engine)
    print(f"Created {len(SQLModel.metadata.tables)} tables")
    if not args.empty:
        added = seed_sample_data(engine)
        print(f"Loaded market data and {len(added)} sample customers: {', '.join(added)}")
    with Session(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            count = session.exec(select(func.count()).select_from(table)).one()
            print(f"  {table.name:<24} {count:>7} rows")
    engine.dispose()


if __name__ == "__main__":
    main()
