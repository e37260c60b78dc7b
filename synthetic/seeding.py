"""Loading the sample data: market data and the five sample customers of the contract.

Market data is loaded when the bank has none, and each sample customer is added
only when its CustomerOID is not taken, so that loading twice changes nothing.
Everything is generated from fixed seeds: two fresh installs agree to the cent.
Who the samples are is in ``samples.py``, how they become rows in ``sample_book.py``.
"""

import time as clock

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from db import create_schema
from market.institutions import load_institutions
from market.model import load_market_data
from models import Customer
from services.books import keep_books
from services.kept import keep_summaries
from synthetic.sample_book import add_sample_customer
from synthetic.samples import SAMPLE_CUSTOMERS


def seed_sample_data(engine: Engine) -> list[str]:
    """Load market data and every missing sample customer; return the names added."""
    added = []
    with Session(engine) as session, session.begin():
        market = load_market_data(session)
        institutions = load_institutions(session)
        taken = set(session.exec(select(Customer.customer_oid)))
        oids = []
        for index, sample in enumerate(SAMPLE_CUSTOMERS, start=1):
            if sample.customer_oid not in taken:
                add_sample_customer(session, sample, index, market, institutions)
                added.append(sample.name)
                oids.append(sample.customer_oid)
        session.flush()
        keep_books(session.connection(), oids)
        keep_summaries(session, oids)
    return added


def prepare_database(engine: Engine, *, load_samples: bool = True) -> list[str]:
    """Create the schema and, on a new database, the sample data; return the names added.

    Several workers may start on one new database at once: whichever loses the
    race to create a table or a sample customer finds the work done, and goes on.
    """
    new = False
    for attempt in range(5):
        try:
            # A retry finds the schema made: it is still a new database, whose samples the
            # failed attempt may not have loaded (loading is idempotent).
            new = create_schema(engine) or new
            if new and load_samples:
                return seed_sample_data(engine)
            return []
        except (OperationalError, IntegrityError):
            if attempt == 4:
                raise
            clock.sleep(0.2 * (attempt + 1))
    return []
