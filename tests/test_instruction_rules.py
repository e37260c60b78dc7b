"""The bank's rules: an instruction that breaks one is a 422 naming the rule (``rule``) and the
field (the ``detail`` starts with it), and changes nothing; a malformed one is a 400 naming
the field, never a 500, and writes nothing either."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from models import BankAccount, DerivativeTransaction
from tests.bank_book import balance, book, change_row, market_holiday
from tests.helpers import JANE, JOHN, sample_oid

ABC = sample_oid("ABC Corporation")
MICHAEL = sample_oid("Michael Chen")
# John's accounts, as the sample data makes them (the `ids` fixture checks it).
CHECKING, EUR_SAVINGS, BROKERAGE, CRYPTO, EUR_BROKERAGE = 1, 2, 3, 4, 5
JANE_CHECKING, ABC_GBP_CHECKING = 6, 13
SHORT_CALL, EXPIRED_PUT, JANES_CALL, JANES_FUTURE = 1, 2, 3, 4
PAYEE = {"name": "Northwind Utilities", "iban": "DE89370400440532013000"}
US_PAYEE = {"name": "Acme Landlord", "account_number": "12345678", "routing_number": "021000021"}


@pytest.fixture
def ids(client: TestClient) -> None:
    """The account and position ids the cases name are those the sample data gives."""
    accounts = client.get(f"/customer/{JOHN}/accounts").json()["bank_accounts"]
    assert [(a["id"], a["account_type"], a["currency"]) for a in accounts] == [
        (CHECKING, "checking", "USD"),
        (EUR_SAVINGS, "savings", "EUR"),
        (BROKERAGE, "brokerage", "USD"),
        (CRYPTO, "crypto", "USD"),
        (EUR_BROKERAGE, "brokerage", "EUR"),
    ]
    listed = client.get(f"/customer/{JOHN}/derivatives").json()["derivative_transactions"]
    positions = {d["id"]: d for d in listed}
    assert positions[SHORT_CALL]["status"] == "open" and positions[SHORT_CALL]["side"] == "short"
    assert positions[EXPIRED_PUT]["status"] == "expired"


def bank_day(client: TestClient) -> date:
    return date.fromisoformat(client.get(f"/customer/{JOHN}/assets").json()["as_of"])


def post(client: TestClient, what: str, body: object, oid: str = JOHN, **headers: str) -> Any:
    return client.post(f"/customer/{oid}/{what}", json=body, headers=headers)


Setup = Callable[[TestClient, Engine], dict[str, object]]


def nothing(client: TestClient, engine: Engine) -> dict[str, object]:
    return {}


@dataclass
class Case:
    rule: str
    field: str
    what: str
    body: dict[str, Any]
    oid: str = JOHN
    setup: Setup = nothing
    method: str = "POST"


def with_overdraft(client: TestClient, engine: Engine) -> dict[str, object]:
    change_row(engine, BankAccount, BROKERAGE, overdraft_limit=Decimal(1000))
    return {}


def crypto_cash(amount: Decimal) -> Setup:
    def setup(client: TestClient, engine: Engine) -> dict[str, object]:
        change_row(engine, BankAccount, CRYPTO, balance=amount)
        return {}

    return setup


def closed(account_id: int) -> Setup:
    def setup(client: TestClient, engine: Engine) -> dict[str, object]:
        change_row(engine, BankAccount, account_id, status="closed")
        return {}

    return setup


def aapl_holiday(client: TestClient, engine: Engine) -> dict[str, object]:
    market_holiday(engine, "AAPL", bank_day(client))
    return {}


def call_expired_yesterday(client: TestClient, engine: Engine) -> dict[str, object]:
    change_row(
        engine, DerivativeTransaction, SHORT_CALL, expiry_date=bank_day(client) - timedelta(1)
    )
    return {}


def limit_partly_used(client: TestClient, engine: Engine) -> dict[str, object]:
    done = post(client, "transfers", {"from_account_id": CHECKING, "to_account_id": BROKERAGE,
                                      "amount": 30000})  # fmt: skip
    assert done.status_code == 201, done.text
    return {}


def day_of_a_scheduled_payment(client: TestClient, engine: Engine) -> dict[str, object]:
    later = (bank_day(client) + timedelta(15)).isoformat()
    done = post(client, "payments", {"from_account_id": CHECKING, "amount": 45000,
                                     "payee": PAYEE, "execute_on": later})  # fmt: skip
    assert done.status_code == 201 and done.json()["status"] == "scheduled", done.text
    return {"execute_on": later}


def a_payment_made_today(client: TestClient, engine: Engine) -> dict[str, object]:
    done = post(client, "payments", {"from_account_id": CHECKING, "amount": 10, "payee": PAYEE})
    assert done.status_code == 201 and done.json()["status"] == "executed", done.text
    return {"payment_id": done.json()["instruction_id"]}


def transfer(source: int, target: int, amount: object, **more: object) -> dict[str, Any]:
    return {"from_account_id": source, "to_account_id": target, "amount": amount, **more}


def order(side: str, symbol: str | None = None, **more: object) -> dict[str, Any]:
    return {"side": side, **({"symbol": symbol} if symbol else {}), **more}


CASES = {
    "transfer more than the balance": Case(
        "insufficient_funds", "amount", "transfers", transfer(BROKERAGE, CHECKING, "25605.81")
    ),
    "transfer past the overdraft limit": Case(
        "insufficient_funds", "amount", "transfers", transfer(BROKERAGE, CHECKING, "26605.81"),
        setup=with_overdraft,
    ),
    "pay more than the balance": Case(
        "insufficient_funds", "amount", "payments",
        {"from_account_id": ABC_GBP_CHECKING, "amount": "120000.01", "payee": PAYEE}, oid=ABC,
    ),
    "buy for more than the cash": Case(
        "insufficient_funds", "quantity", "orders", order("buy", "SPY", quantity=100)
    ),
    "buy an amount beyond the cash": Case(
        "insufficient_funds", "amount", "orders", order("buy", "SPY", amount=30000)
    ),
    "sell for less than the commission, without the difference": Case(
        "insufficient_funds", "quantity", "orders", order("sell", "BTC", quantity="0.00001"),
        setup=crypto_cash(Decimal("0.10")),
    ),
    "sell more than held": Case(
        "insufficient_holdings", "quantity", "orders", order("sell", "AAPL", quantity="100.0001")
    ),
    "sell what is not held": Case(
        "insufficient_holdings", "quantity", "orders", order("sell", "TSLA", quantity=1)
    ),
    "transfer over the daily limit": Case(
        "daily_limit", "amount", "transfers", transfer(CHECKING, BROKERAGE, "50000.01")
    ),
    "transfer past the day's limit left": Case(
        "daily_limit", "amount", "transfers", transfer(CHECKING, BROKERAGE, "20000.01"),
        setup=limit_partly_used,
    ),
    "payment on a day already at its limit": Case(
        "daily_limit", "amount", "payments",
        {"from_account_id": CHECKING, "amount": "5000.01", "payee": PAYEE,
         "execute_on": "{execute_on}"},
        setup=day_of_a_scheduled_payment,
    ),
    "transfer from someone else's account": Case(
        "unknown_account", "from_account_id", "transfers", transfer(JANE_CHECKING, CHECKING, 10)
    ),
    "transfer to an account nobody has": Case(
        "unknown_account", "to_account_id", "transfers", transfer(CHECKING, 999_999, 10)
    ),
    "pay from someone else's account": Case(
        "unknown_account", "from_account_id", "payments",
        {"from_account_id": CHECKING, "amount": 10, "payee": US_PAYEE}, oid=JANE,
    ),
    "trade in someone else's account": Case(
        "unknown_account", "account_id", "orders",
        order("buy", "AAPL", quantity=1, account_id=BROKERAGE), oid=JANE,
    ),
    "trade a holding in someone else's account": Case(
        "unknown_account", "account_id", "orders",
        order("sell", "TSLA", quantity=1, account_id=BROKERAGE), oid=JANE,
    ),
    "transfer to a closed account": Case(
        "account_closed", "to_account_id", "transfers", transfer(CHECKING, EUR_SAVINGS, 10),
        setup=closed(EUR_SAVINGS),
    ),
    "transfer from a closed account": Case(
        "account_closed", "from_account_id", "transfers", transfer(EUR_SAVINGS, CHECKING, 10),
        setup=closed(EUR_SAVINGS),
    ),
    "buy in a closed brokerage account": Case(
        "account_closed", "account_id", "orders", order("buy", "AAPL", quantity=1),
        setup=closed(BROKERAGE),
    ),
    "transfer to a crypto account": Case(
        "wrong_account_kind", "to_account_id", "transfers", transfer(CHECKING, CRYPTO, 10)
    ),
    "pay from a savings account": Case(
        "wrong_account_kind", "from_account_id", "payments",
        {"from_account_id": EUR_SAVINGS, "amount": 10, "payee": PAYEE},
    ),
    "buy shares in the checking account": Case(
        "wrong_account_kind", "account_id", "orders",
        order("buy", "MSFT", quantity=1, account_id=CHECKING),
    ),
    "transfer to the same account": Case(
        "same_account", "to_account_id", "transfers", transfer(CHECKING, CHECKING, 10)
    ),
    "pay yesterday": Case(
        "date_in_past", "execute_on", "payments",
        {"from_account_id": CHECKING, "amount": 10, "payee": PAYEE, "execute_on": "2026-09-29"},
    ),
    "pay in two years": Case(
        "date_too_far", "execute_on", "payments",
        {"from_account_id": CHECKING, "amount": 10, "payee": PAYEE, "execute_on": "2028-09-30"},
    ),
    "buy on the instrument's holiday": Case(
        "market_closed", "symbol", "orders", order("buy", "AAPL", quantity=1), setup=aapl_holiday
    ),
    "close an option on its underlying's holiday": Case(
        "market_closed", "derivative_id", "orders", order("close", derivative_id=SHORT_CALL),
        setup=aapl_holiday,
    ),
    "buy an instrument the bank does not list": Case(
        "unknown_instrument", "symbol", "orders", order("buy", "ZZZZ", quantity=1)
    ),
    "buy a fraction too fine": Case(
        "quantity_precision", "quantity", "orders", order("buy", "AAPL", quantity="1.00005")
    ),
    "buy half a bond": Case(
        "quantity_precision", "quantity", "orders", order("buy", "US5Y", quantity="1.5")
    ),
    "buy for a cent": Case(
        "amount_too_small", "amount", "orders", order("buy", "AAPL", amount="0.01")
    ),
    "sell crypto worth less than a cent": Case(
        "amount_too_small", "quantity", "orders", order("sell", "BTC", quantity="0.00000001")
    ),
    "buy crypto worth less than a cent": Case(
        "amount_too_small", "quantity", "orders", order("buy", "ETH", quantity="0.00000001")
    ),
    "convert a cent into nothing": Case(
        "amount_too_small", "amount", "transfers", transfer(CHECKING, EUR_SAVINGS, "0.01")
    ),
    "trade a holding outside its account": Case(
        "wrong_account", "account_id", "orders",
        order("buy", "AAPL", quantity=1, account_id=EUR_BROKERAGE),
    ),
    "pay in another currency than the account's": Case(
        "wrong_currency", "currency", "payments",
        {"from_account_id": CHECKING, "amount": 10, "currency": "EUR", "payee": PAYEE},
    ),
    "buy dollar shares in a euro account": Case(
        "wrong_currency", "account_id", "orders",
        order("buy", "TSLA", quantity=1, account_id=EUR_BROKERAGE),
    ),
    "buy euro shares without a euro account": Case(
        "no_brokerage_account", "symbol", "orders", order("buy", "SAP", quantity=1), oid=MICHAEL
    ),
    "close someone else's position": Case(
        "unknown_position", "derivative_id", "orders", order("close", derivative_id=JANES_CALL)
    ),
    "close an expired position": Case(
        "position_not_open", "derivative_id", "orders", order("close", derivative_id=EXPIRED_PUT)
    ),
    "close a future": Case(
        "not_an_option", "derivative_id", "orders", order("close", derivative_id=JANES_FUTURE),
        oid=JANE,
    ),
    "close an option past its expiry": Case(
        "position_expired", "derivative_id", "orders", order("close", derivative_id=SHORT_CALL),
        setup=call_expired_yesterday,
    ),
    "cancel a payment already made": Case(
        "already_executed", "payment_id", "payments/{payment_id}", {}, method="DELETE",
        setup=a_payment_made_today,
    ),
}  # fmt: skip


def fill_in(value: Any, names: dict[str, object]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {key: fill_in(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_broken_rule_is_422_naming_rule_and_field_and_changes_nothing(
    client: TestClient, engine: Engine, ids: None, case: Case
) -> None:
    names = case.setup(client, engine)
    before = book(engine)
    path = f"/customer/{case.oid}/{fill_in(case.what, names)}"
    body = fill_in(case.body, names) if case.method == "POST" else None
    response = client.request(case.method, path, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["rule"] == case.rule, answer
    assert answer["detail"].startswith(f"{case.field}: "), answer
    assert book(engine) == before


def test_an_overdraft_limit_lets_the_balance_go_that_far_below_zero(
    client: TestClient, engine: Engine, ids: None
) -> None:
    change_row(engine, BankAccount, BROKERAGE, overdraft_limit=Decimal(1000))
    available = balance(engine, BROKERAGE) + 1000
    response = post(client, "transfers", transfer(BROKERAGE, CHECKING, str(available)))
    assert response.status_code == 201, response.text
    assert balance(engine, BROKERAGE) == Decimal("-1000.00")
    again = post(client, "transfers", transfer(BROKERAGE, CHECKING, "0.01"))
    assert again.status_code == 422 and again.json()["rule"] == "insufficient_funds"


def test_the_daily_limit_counts_the_mid_rate_value_and_allows_up_to_it(
    client: TestClient, engine: Engine, ids: None
) -> None:
    """50,000 USD exactly is allowed, a cent more is not; a company's limit is higher."""
    done = post(client, "transfers", transfer(CHECKING, BROKERAGE, 50000))
    assert done.status_code == 201, done.text
    refused = post(client, "transfers", transfer(BROKERAGE, CHECKING, "0.01"))
    assert refused.status_code == 422 and refused.json()["rule"] == "daily_limit"
    company = post(client, "transfers", transfer(12, 14, 500000), oid=ABC)
    assert company.status_code == 201, company.text


BAD_INPUT = {
    "malformed JSON": ("transfers", b'{"from_account_id": 1,', "request body: malformed JSON"),
    "a list for a body": ("transfers", [1, 2], "request body"),
    "an unknown field": ("transfers", transfer(CHECKING, BROKERAGE, 10, colour="red"),
                         "'colour': unknown field"),
    "a missing field": ("transfers", {"from_account_id": CHECKING, "amount": 10},
                        "'to_account_id'"),
    "a negative amount": ("transfers", transfer(CHECKING, BROKERAGE, -10), "'amount'"),
    "a zero amount": ("transfers", transfer(CHECKING, BROKERAGE, 0), "'amount'"),
    "a huge amount": ("transfers", transfer(CHECKING, BROKERAGE, 10**20), "'amount'"),
    "a huge amount as text": ("transfers", transfer(CHECKING, BROKERAGE, "1E+400"), "'amount'"),
    "an amount with three decimals": ("transfers", transfer(CHECKING, BROKERAGE, "10.005"),
                                      "'amount'"),
    "a float with three decimals": ("transfers", transfer(CHECKING, BROKERAGE, 0.001),
                                    "'amount'"),
    "NaN": ("transfers", transfer(CHECKING, BROKERAGE, "NaN"), "'amount'"),
    "Infinity": ("transfers", transfer(CHECKING, BROKERAGE, "Infinity"), "'amount'"),
    "-Infinity": ("transfers", transfer(CHECKING, BROKERAGE, "-Infinity"), "'amount'"),
    "an overflowing JSON number": ("transfers", b'{"from_account_id": 1, "to_account_id": 3, '
                                   b'"amount": 1e400}', "'amount'"),
    "a boolean amount": ("transfers", transfer(CHECKING, BROKERAGE, True), "'amount'"),
    "a boolean account": ("transfers", transfer(True, BROKERAGE, 10), "'from_account_id'"),
    "a boolean position": ("orders", order("close", derivative_id=True), "'derivative_id'"),
    "a boolean quantity": ("orders", order("buy", "AAPL", quantity=True), "'quantity'"),
    "an account id past 64 bits": ("transfers", transfer(2**64, BROKERAGE, 10),
                                   "'from_account_id'"),
    "an unknown currency": ("transfers", transfer(CHECKING, EUR_SAVINGS, 10, currency="XYZ"),
                            "currency: 'XYZ'"),
    "a currency that is no code": ("transfers", transfer(CHECKING, BROKERAGE, 10, currency="US"),
                                   "currency: 'US'"),
    "a bad IBAN checksum": ("payments", {"from_account_id": CHECKING, "amount": 10, "payee":
                            {"name": "Bob Payee", "iban": "DE89370400440532013001"}},
                            "payee.iban: "),
    "a bad routing checksum": ("payments", {"from_account_id": CHECKING, "amount": 10, "payee":
                               {**US_PAYEE, "routing_number": "021000022"}},
                               "payee.routing_number: "),
    "an account number of letters": ("payments", {"from_account_id": CHECKING, "amount": 10,
                                     "payee": {**US_PAYEE, "account_number": "12ab5678"}},
                                     "payee.account_number: "),
    "both an IBAN and an account": ("payments", {"from_account_id": CHECKING, "amount": 10,
                                    "payee": {**US_PAYEE, "iban": PAYEE["iban"]}}, "payee: "),
    "neither an IBAN nor an account": ("payments", {"from_account_id": CHECKING, "amount": 10,
                                       "payee": {"name": "Bob Payee"}}, "payee: "),
    "a payee name of one letter": ("payments", {"from_account_id": CHECKING, "amount": 10,
                                   "payee": {**PAYEE, "name": "B"}}, "payee.name"),
    "a date that is no date": ("payments", {"from_account_id": CHECKING, "amount": 10,
                               "payee": PAYEE, "execute_on": "soon"}, "'execute_on'"),
    "an unknown side": ("orders", order("hold", "AAPL", quantity=1), "'side'"),
    "a negative quantity": ("orders", order("buy", "AAPL", quantity=-1), "'quantity'"),
    "a quantity and an amount": ("orders", order("buy", "AAPL", quantity=1, amount=100),
                                 "quantity, amount"),
    "an order without a symbol": ("orders", order("buy", quantity=1), "symbol: required"),
    "a close with a symbol": ("orders", order("close", "AAPL", derivative_id=SHORT_CALL),
                              "symbol: not allowed"),
    "a symbol too long": ("orders", order("buy", "A" * 17, quantity=1), "'symbol'"),
}  # fmt: skip


def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    client: TestClient, engine: Engine, subtests: pytest.Subtests
) -> None:
    """One bank for every case: none may write anything, which each case checks."""
    before = book(engine)
    for name, (what, body, named) in BAD_INPUT.items():
        with subtests.test(name):
            path = f"/customer/{JOHN}/{what}"
            if isinstance(body, bytes):
                sent = client.post(path, content=body, headers={"Content-Type": "application/json"})
            else:
                sent = client.post(path, json=body)
            assert sent.status_code == 400, sent.text
            assert named in sent.json()["detail"], sent.json()
            assert book(engine) == before


def test_a_bad_idempotency_key_is_400_naming_the_header_and_writes_nothing(
    client: TestClient, engine: Engine, subtests: pytest.Subtests
) -> None:
    before = book(engine)
    for key, named in [("k" * 256, "1 to 255 characters"), ("two words", "no spaces"),
                       ("", "1 to 255"), ("caf\u00e9", "visible ASCII")]:  # fmt: skip
        with subtests.test(key[:20]):
            sent = client.post(
                f"/customer/{JOHN}/transfers",
                json=transfer(CHECKING, BROKERAGE, 10),
                headers={b"Idempotency-Key": key.encode()},
            )
            assert sent.status_code == 400, sent.text
            assert "Idempotency-Key" in sent.json()["detail"] and named in sent.json()["detail"]
            assert book(engine) == before


def test_a_key_of_255_visible_characters_is_taken(client: TestClient) -> None:
    key = "".join(chr(33 + n % 94) for n in range(255))
    response = post(client, "transfers", transfer(CHECKING, BROKERAGE, 10), **{
        "Idempotency-Key": key})  # fmt: skip
    assert response.status_code == 201, response.text


def test_an_unknown_customer_is_404_and_a_malformed_one_400(client: TestClient) -> None:
    unknown = "550e8400-e29b-41d4-a716-446655440000"
    assert post(client, "transfers", transfer(1, 3, 10), oid=unknown).status_code == 404
    assert post(client, "transfers", transfer(1, 3, 10), oid="not-an-id").status_code == 400
    assert client.delete(f"/customer/{unknown}/payments/1").status_code == 404


def test_another_customers_instructions_are_not_found_and_stay_as_they_are(
    client: TestClient, engine: Engine
) -> None:
    # Instruction ids count through the whole bank: Jane must not reach John's by guessing.
    scheduled = post(client, "payments", {"from_account_id": CHECKING, "amount": 10,
                                          "payee": PAYEE, "execute_on": "2026-10-15"})  # fmt: skip
    assert scheduled.status_code == 201, scheduled.text
    payment_id = scheduled.json()["instruction_id"]
    before = book(engine)
    read = client.get(f"/customer/{JANE}/instructions/{payment_id}")
    assert read.status_code == 404 and str(payment_id) in read.json()["detail"]
    cancel = client.delete(f"/customer/{JANE}/payments/{payment_id}")
    assert cancel.status_code == 404 and str(payment_id) in cancel.json()["detail"]
    assert client.get(f"/customer/{JANE}/instructions").json()["total"] == 0
    assert client.get(f"/customer/{JANE}/payments").json()["instructions"] == []
    assert book(engine) == before
    mine = client.get(f"/customer/{JOHN}/instructions/{payment_id}").json()
    assert mine["status"] == "scheduled"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("instructions?limit=0", "limit"),
        ("instructions?limit=1001", "limit"),
        ("instructions?kind=loan", "kind"),
        ("payments?status=pending", "status"),
        ("instructions/0", "instruction_id"),
        ("instructions/x", "instruction_id"),
        ("payments/9007199254740992", "payment_id"),
    ],
)
def test_malformed_reads_and_cancels_are_400_naming_the_field(
    client: TestClient, path: str, field: str
) -> None:
    method = "DELETE" if path.startswith("payments/") else "GET"
    response = client.request(method, f"/customer/{JOHN}/{path}")
    assert response.status_code == 400, response.text
    assert f"'{field}'" in response.json()["detail"]
