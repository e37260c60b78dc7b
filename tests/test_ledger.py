"""The ledger balances, whatever customers instruct: a stateful property test.

Hypothesis drives random sequences of instructions against a fresh copy of the sample bank
over REST: transfers (in one currency and across two), payments (today and scheduled),
cancellations, buys and sells (by quantity and by amount), option closes, retries with the
same Idempotency-Key, instructions sent at once from several threads, and edits no endpoint
makes (a market holiday, a closed account), many of them bound to be refused. After every
step it checks, from the database and the market's own tables:

- every balance is its opening balance plus the rows instructions booked on it, and no
  balance is below minus its overdraft limit;
- every holding is its opening quantity plus the fills (buy and sell rows of instructions);
- each instruction's legs add up to the cent: a transfer's ``sent`` left and ``received``
  arrived, ``to_cents(sent * mid) - received`` being the bank's FX income; a trade's cash is
  ``-(to_cents(qty * close) + dealing_spread + fee)`` for a buy and
  ``to_cents(qty * close) - dealing_spread - fee`` for a sale; a payment's row is its amount;
- money appears or disappears, currency by currency, only as the bank's income, payments
  sent, and what trades exchanged with the market at the close (and conversions at the mid);
- a refused or malformed step changed nothing, and where the outcome follows from the
  balances alone (a transfer in one currency, a payment, a sale of more than is held), the
  bank decided as the rules say.

Derandomized, so every run (and CI) tries the same sequences. Run with ``-s`` to see how many
sequences and steps were tried, and how long they took::

    .venv/bin/pytest -n 0 -s tests/test_ledger.py
"""

import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.money import CENT, to_cents
from core.settings import Settings
from main import create_app
from models import BankAccount, Instrument
from services.books import disagreements
from services.kept import stale_summaries
from tests.bank_book import book, change_row, market_holiday
from tests.helpers import JANE, JOHN, sample_oid
from tests.ledger_checks import check_ledger, read_ledger, read_market

if TYPE_CHECKING:
    from conftest import FreshDatabases

T = TypeVar("T")
ABC = sample_oid("ABC Corporation")
CUSTOMERS = (JOHN, JANE, ABC)
DAILY_LIMIT = {JOHN: Decimal(50_000), JANE: Decimal(50_000), ABC: Decimal(1_000_000)}
"""The published limits: 50,000 USD a day for a person, 1,000,000 for a company."""
SYMBOLS = ("SPY", "GOOGL", "AAPL", "US5Y", "BTC", "SAP", "ETH", "TSLA", "NVDA", "MSFT", "QQQ")
PAYEES = (
    {"name": "Northwind Utilities", "iban": "DE89370400440532013000"},
    {"name": "Acme Landlord", "account_number": "12345678", "routing_number": "021000021"},
)
RULES = {
    "insufficient_funds", "insufficient_holdings", "daily_limit", "unknown_account",
    "account_closed", "wrong_account_kind", "same_account", "date_in_past", "date_too_far",
    "market_closed", "unknown_instrument", "quantity_precision", "amount_too_small",
    "wrong_account", "wrong_currency", "no_brokerage_account", "unknown_position",
    "position_not_open", "not_an_option", "position_expired", "already_executed",
}  # fmt: skip
TRANSFERABLE = ("checking", "savings", "brokerage")
SELL_REFUSALS = {
    "insufficient_holdings", "quantity_precision", "market_closed", "amount_too_small",
    "no_brokerage_account", "account_closed",
}  # fmt: skip

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # No shrinking: a step takes milliseconds, so shrinking a failure takes many minutes;
    # the failing sequence (at most stateful_step_count steps) is printed as it was found.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=False,
)

amounts = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(3000), places=2),
    st.sampled_from(["all", "half", "over", "big", "tiny", "zero", "three places"]),
)
"""An amount in cents, or one relative to the account's balance, or one that is malformed."""
quantities = st.one_of(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(20), places=4),
    st.sampled_from(["held", "half_held", "over_held", "one", "dust"]),
)


def pick(data: st.DataObject, options: Sequence[T], label: str) -> T:
    """One of ``options``, drawn as a number whatever their count. What a step may choose
    from depends on earlier steps, and those are not exactly repeatable (answers to
    instructions sent at once may come in either order), while Hypothesis replays its draws."""
    return options[data.draw(st.integers(min_value=0, max_value=999), label=label) % len(options)]


def well_formed(amount: Decimal) -> bool:
    return amount > 0 and amount == amount.quantize(CENT)


class LedgerMachine(RuleBasedStateMachine):
    databases: ClassVar["FreshDatabases"]
    sequences: ClassVar[int] = 0
    steps: ClassVar[int] = 0
    outcomes: ClassVar[Counter[str]] = Counter()
    """How often each answer came: 201 and every rule refused, for the record."""

    def __init__(self) -> None:
        super().__init__()
        type(self).sequences += 1
        self.url = self.databases.make()
        self.client = TestClient(create_app(Settings(database_url=self.url)))
        self.client.__enter__()
        self.engine: Engine = self.client.app.state.engine  # type: ignore[attr-defined]
        # One account may go below zero, as far as its limit.
        change_row(self.engine, BankAccount, 3, overdraft_limit=Decimal(1000))
        self.market = read_market(self.engine)
        with Session(self.engine) as session:
            instruments = session.exec(select(Instrument.symbol, Instrument.asset_type))
            self.asset_types: dict[str, str] = dict(instruments.all())
        self.opening = read_ledger(self.engine)
        self.keys = itertools.count()
        self.sent: list[tuple[str, str, dict[str, Any], str, Any]] = []
        self.payments: dict[str, list[int]] = defaultdict(list)
        self.holiday: str | None = None
        self.closed = False

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.databases.drop(self.url)

    def post(self, oid: str, what: str, body: dict[str, Any], key: str | None = None) -> Any:
        type(self).steps += 1
        key = key or f"step-{next(self.keys)}"
        before = book(self.engine)
        response = self.client.post(
            f"/customer/{oid}/{what}", json=body, headers={"Idempotency-Key": key}
        )
        self.settle(response, before)
        self.tally(response)
        self.sent.append((oid, what, body, key, response))
        return response

    def tally(self, response: Any) -> None:
        code = response.status_code
        self.outcomes[response.json()["rule"] if code == 422 else str(code)] += 1

    def settle(self, response: Any, before: dict[str, Any]) -> None:
        """Any answer but a 5xx; a refusal names a known rule; only a 201 changes the book."""
        assert response.status_code in (201, 400, 404, 422), response.text
        if response.status_code == 422:
            assert response.json()["rule"] in RULES | {"idempotency_key_reused"}, response.text
        if response.status_code != 201:
            assert book(self.engine) == before, response.text

    def account(self, account_id: int) -> BankAccount:
        with Session(self.engine) as session:
            found = session.get(BankAccount, account_id)
            assert found is not None
            return found

    def own_accounts(self, oid: str) -> list[int]:
        return sorted(i for i, a in self.opening.accounts.items() if a.customer_oid == oid)

    def resolve(self, spec: Decimal | str, account: BankAccount) -> Decimal:
        available = account.balance + account.overdraft_limit
        return {
            "all": max(available, CENT),
            "half": max((available / 2).quantize(CENT), CENT),
            "over": max(available, Decimal(0)) + CENT,
            "big": Decimal(60_000),
            "tiny": CENT,
            "zero": Decimal(0),
            "three places": Decimal("10.005"),
        }.get(str(spec), spec if isinstance(spec, Decimal) else CENT)

    def used_today(self, oid: str, day: date) -> Decimal:
        """What the customer's transfers and payments already count on ``day``, recomputed
        from what they moved (the checks hold it equal to what the bank counted)."""
        ledger = read_ledger(self.engine)
        used = Decimal(0)
        for instruction in ledger.instructions:
            if (instruction.customer_oid, instruction.execute_on) != (oid, day):
                continue
            if instruction.kind == "order" or instruction.status == "cancelled":
                continue
            details = json.loads(instruction.request)
            if instruction.kind == "transfer":
                sent = -ledger.rows[instruction.id or 0][0].amount
                currency = self.opening.accounts[details["from_account_id"]].currency
            else:
                sent, currency = Decimal(details["amount"]), details["currency"]
            used += to_cents(sent * self.market.usd[currency])
        return used

    def expect(self, response: Any, *, accepted: bool, rule: str | None = None) -> None:
        if accepted:
            assert response.status_code == 201, response.text
        else:
            assert response.status_code == 422, response.text
            assert rule is None or response.json()["rule"] == rule, response.text

    @rule(
        data=st.data(),
        oid=st.sampled_from(CUSTOMERS),
        spec=amounts,
        in_target=st.booleans(),
        elsewhere=st.sampled_from([False, False, False, True]),
    )
    def transfer(
        self, data: st.DataObject, oid: str, spec: Decimal | str, in_target: bool, elsewhere: bool
    ) -> None:
        accounts = sorted(self.opening.accounts) if elsewhere else self.own_accounts(oid)
        source = self.account(pick(data, accounts, "from"))
        target = self.account(pick(data, self.own_accounts(oid), "to"))
        amount = self.resolve(spec, source)
        body = {"from_account_id": source.id, "to_account_id": target.id, "amount": str(amount)}
        if in_target:
            body["currency"] = target.currency
        plain = (
            source.customer_oid == oid
            and source.id != target.id
            and source.currency == target.currency
            and {source.status, target.status} == {"open"}
            and {source.account_type, target.account_type} <= set(TRANSFERABLE)
        )
        counted = to_cents(amount * self.market.usd[source.currency])
        over_limit = self.used_today(oid, self.market.day) + counted > DAILY_LIMIT[oid]
        response = self.post(oid, "transfers", body)
        if not well_formed(amount):
            assert response.status_code == 400 and "'amount'" in response.text, response.text
        elif plain and over_limit:
            self.expect(response, accepted=False, rule="daily_limit")
        elif plain:
            enough = amount <= source.balance + source.overdraft_limit
            self.expect(response, accepted=enough, rule="insufficient_funds")

    @rule(
        data=st.data(),
        oid=st.sampled_from(CUSTOMERS),
        spec=amounts,
        days=st.sampled_from([0, 0, 0, 7, 30, -1, 400]),
        payee=st.sampled_from(PAYEES),
    )
    def pay(
        self, data: st.DataObject, oid: str, spec: Decimal | str, days: int, payee: dict[str, str]
    ) -> None:
        source = self.account(pick(data, self.own_accounts(oid), "from"))
        amount = self.resolve(spec, source)
        day = self.market.day + timedelta(days)
        body = {
            "from_account_id": source.id,
            "amount": str(amount),
            "payee": payee,
            "execute_on": day.isoformat(),
        }
        counted = to_cents(amount * self.market.usd[source.currency])
        over_limit = self.used_today(oid, day) + counted > DAILY_LIMIT[oid]
        response = self.post(oid, "payments", body)
        if response.status_code == 201:
            self.payments[oid].append(response.json()["instruction_id"])
        if not well_formed(amount):
            assert response.status_code == 400 and "'amount'" in response.text, response.text
        elif source.account_type != "checking" or source.status != "open":
            self.expect(response, accepted=False)
        elif days < 0:
            self.expect(response, accepted=False, rule="date_in_past")
        elif days > 366:
            self.expect(response, accepted=False, rule="date_too_far")
        elif over_limit:
            self.expect(response, accepted=False, rule="daily_limit")
        elif days == 0:
            enough = amount <= source.balance + source.overdraft_limit
            self.expect(response, accepted=enough, rule="insufficient_funds")
        else:
            self.expect(response, accepted=True)
            assert response.json()["status"] == "scheduled"

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """Cancel one of the payments made so far (scheduled, executed or cancelled)."""
        if not any(self.payments.values()):
            return
        type(self).steps += 1
        oid = pick(data, sorted(o for o in self.payments if self.payments[o]), "customer")
        payment_id = pick(data, self.payments[oid], "payment")
        before = book(self.engine)
        response = self.client.delete(f"/customer/{oid}/payments/{payment_id}")
        self.tally(response)
        if response.status_code == 200:
            assert response.json()["status"] == "cancelled"
        else:
            assert response.status_code in (404, 422), response.text
            assert book(self.engine) == before

    @rule(
        oid=st.sampled_from(CUSTOMERS),
        side=st.sampled_from(["buy", "sell"]),
        symbol=st.sampled_from(SYMBOLS),
        by_amount=st.booleans(),
        quantity=quantities,
        spec=amounts,
    )
    def trade(
        self,
        oid: str,
        side: str,
        symbol: str,
        by_amount: bool,
        quantity: Decimal | str,
        spec: Decimal | str,
    ) -> None:
        held = read_ledger(self.engine).holdings.get((oid, symbol), Decimal(0))
        body: dict[str, Any] = {"side": side, "symbol": symbol}
        if by_amount:
            body["amount"] = str(spec if isinstance(spec, Decimal) else Decimal(500))
        else:
            units = {
                "held": held,
                "half_held": (held / 2).quantize(Decimal("0.0001")),
                "over_held": held + 1,
                "one": Decimal(1),
                "dust": Decimal("0.00000001"),
            }.get(str(quantity), quantity)
            body["quantity"] = f"{Decimal(units).normalize():f}" if units else "1"
        response = self.post(oid, "orders", body)
        if side == "sell" and not by_amount and Decimal(body["quantity"]) > held:
            self.expect(response, accepted=False)
            # Holding too little, or having nowhere the instrument could be held.
            assert response.json()["rule"] in SELL_REFUSALS, response.text

    @rule(
        data=st.data(),
        oid=st.sampled_from(CUSTOMERS),
        elsewhere=st.sampled_from([False, False, False, True]),
    )
    def close_option(self, data: st.DataObject, oid: str, elsewhere: bool) -> None:
        """Close one of the customer's positions (open, expired, closed, a future), or
        someone else's."""
        positions = self.opening.positions
        mine = sorted(i for i, p in positions.items() if p.customer_oid == oid or elsewhere)
        derivative_id = pick(data, mine or [10**6], "position")
        self.post(oid, "orders", {"side": "close", "derivative_id": derivative_id})

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """A retry with the key of an earlier step gets that step's answer, and does nothing."""
        if not self.sent:
            return
        oid, what, body, key, first = pick(data, self.sent, "earlier")
        before = book(self.engine)
        again = self.post(oid, what, body, key)
        assert book(self.engine) == before
        assert again.status_code == first.status_code
        if first.status_code in (201, 422):
            assert again.headers.get("Idempotent-Replayed") == "true"
        if first.status_code == 201:
            assert again.json() == first.json()

    @rule(
        data=st.data(),
        oid=st.sampled_from(CUSTOMERS),
        count=st.integers(min_value=2, max_value=4),
        share=st.sampled_from([Decimal("0.3"), Decimal("0.4"), Decimal("0.6")]),
        kind=st.sampled_from(["transfers", "sells", "transfers and buys"]),
    )
    def at_once(self, data: st.DataObject, oid: str, count: int, share: Decimal, kind: str) -> None:
        """Two to four instructions for one customer at the same moment, from as many
        threads, each within what the customer has and together beyond it: those accepted
        fit in it (and the invariants hold after them)."""
        type(self).steps += 1
        before = read_ledger(self.engine)
        held = {s: q for (o, s), q in before.holdings.items() if o == oid}
        sent: list[tuple[str, dict[str, Any]]] = []
        if kind == "sells":
            if not held:
                return
            symbol = pick(data, sorted(held), "symbol")
            step = Decimal(1) if self.asset_types[symbol] == "bond" else Decimal("0.0001")
            each = max((held[symbol] * share).quantize(step, ROUND_DOWN), step)
            sent = [("orders", {"side": "sell", "symbol": symbol, "quantity": str(each)})] * count
        else:
            open_usd = [
                i
                for i in self.own_accounts(oid)
                if before.accounts[i].account_type in TRANSFERABLE
                and before.accounts[i].status == "open"
                and before.accounts[i].currency == "USD"
            ]
            brokerage = [i for i in open_usd if before.accounts[i].account_type == "brokerage"]
            if not brokerage or len(open_usd) < 2:
                return
            source = before.accounts[brokerage[0]]
            target = next(i for i in open_usd if i != source.id)
            each = max(((source.balance + source.overdraft_limit) * share).quantize(CENT), CENT)
            moving = {"from_account_id": source.id, "to_account_id": target, "amount": str(each)}
            buying = {"side": "buy", "symbol": "SPY", "amount": str(each)}
            sent = [("transfers", moving)] * count
            if kind == "transfers and buys":
                sent = [
                    ("orders", buying) if n % 2 else ("transfers", moving) for n in range(count)
                ]
        with ThreadPoolExecutor(count) as pool:
            answers = list(pool.map(lambda one: self.send_alone(oid, *one), sent))
        for answer in answers:
            assert answer.status_code in (201, 422), answer.text
            self.tally(answer)
        done = [a.json() for a in answers if a.status_code == 201]
        if kind == "sells":
            assert sum(Decimal(d["details"]["quantity"]) for d in done) <= held[symbol]
        else:
            left = sum(
                (Decimal(str(row["amount"])) for d in done for row in d["effects"]["transactions"]
                 if row["account_id"] == source.id),
                Decimal(0),
            )  # fmt: skip
            assert -left <= source.balance + source.overdraft_limit
            refused = {a.json()["rule"] for a in answers if a.status_code == 422}
            assert refused <= {"insufficient_funds", "daily_limit", "market_closed"}, refused

    def send_alone(self, oid: str, what: str, body: dict[str, Any]) -> Any:
        """One of the instructions sent at once (each with a key of its own)."""
        key = f"at-once-{next(self.keys)}"
        return self.client.post(
            f"/customer/{oid}/{what}", json=body, headers={"Idempotency-Key": key}
        )

    @precondition(lambda self: not self.holiday)
    @rule(symbol=st.sampled_from(["SAP", "BTC", "AAPL"]))
    def market_holiday(self, symbol: str) -> None:
        """The instrument's market shuts for the day: orders in it are refused from now on."""
        type(self).steps += 1
        self.holiday = symbol
        market_holiday(self.engine, symbol, self.market.day)
        answer = self.post(JOHN, "orders", {"side": "buy", "symbol": symbol, "quantity": 1})
        self.expect(answer, accepted=False, rule="market_closed")

    @precondition(lambda self: not self.closed)
    @rule(data=st.data())
    def close_account(self, data: st.DataObject) -> None:
        """The bank closes an account (no endpoint does): it takes no instruction after."""
        type(self).steps += 1
        self.closed = True
        account_id = pick(data, sorted(self.opening.accounts), "account")
        change_row(self.engine, BankAccount, account_id, status="closed")

    @invariant()
    def the_ledger_balances(self) -> None:
        check_ledger(self.opening, read_ledger(self.engine), self.market, DAILY_LIMIT)

    @invariant()
    def the_kept_figures_are_the_rows(self) -> None:
        # Closing an account here is a write outside the bank: that book is marked stale.
        with self.engine.connect() as connection:
            assert disagreements(connection, stale_ok=True) == []
        assert stale_summaries(self.engine) == []


def test_the_ledger_balances_whatever_is_instructed(fresh_databases: "FreshDatabases") -> None:
    LedgerMachine.databases = fresh_databases
    LedgerMachine.sequences = LedgerMachine.steps = 0
    LedgerMachine.outcomes = Counter()
    started = time.monotonic()
    run_state_machine_as_test(LedgerMachine, settings=SETTINGS)
    print(
        f"\n{LedgerMachine.sequences} sequences, {LedgerMachine.steps} steps, "
        f"{time.monotonic() - started:.1f} s; answers: {dict(LedgerMachine.outcomes.most_common())}"
    )
    assert LedgerMachine.sequences >= SETTINGS.max_examples
