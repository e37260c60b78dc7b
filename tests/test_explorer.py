"""The explorer in headless Chromium: pages load cleanly, charts draw, nothing leaves the machine.

Each test saves a screenshot under test-artifacts/screenshots/ (CI prints the folder).
Without Chromium, its driver or Selenium the browser tests skip, unless
BANK_TEST_REQUIRE names chromium (as CI does): then they fail.
"""

import html
import shutil
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from scripts.stress import serve
from tests.helpers import JANE, JOHN, PROJECT, UNKNOWN, require_or_skip, sample_oid

SCREENSHOTS = PROJECT / "test-artifacts" / "screenshots"
API_KEY = "explorer-test-key"
FULL_KEY = "explorer-test-full-key"

webdriver: Any = None
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the skip below says what is missing
    pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator["WebDriver"]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if webdriver is None:
        require_or_skip(
            "chromium", "Selenium is not installed (pip install -r requirements-dev.txt)"
        )
    if chromium is None or driver_path is None:
        require_or_skip(
            "chromium",
            "Chromium or its driver is missing (apt-get install chromium chromium-driver)",
        )
    assert chromium is not None and driver_path is not None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        # Any host but this one fails to resolve: a CDN link could not load.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_until(driver: "WebDriver", script: str, timeout: float = 30) -> Any:
    """Wait until the script returns something truthy in the page, and return it."""
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def browser_log(driver: "WebDriver") -> list[dict[str, Any]]:
    """The console since the last call (Selenium leaves this method unannotated)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return entries


def open_page(driver: "WebDriver", url: str) -> None:
    """Load a page and wait until its first reads have landed."""
    browser_log(driver)  # start each page with an empty console
    driver.get(url)
    wait_until(driver, "return document.body.dataset.state === 'ready'")


def screenshot(driver: "WebDriver", name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(int(height), 1000), 6000))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1400, 1000)


def console_errors(driver: "WebDriver") -> list[str]:
    return [entry["message"] for entry in browser_log(driver) if entry["level"] == "SEVERE"]


def foreign_requests(driver: "WebDriver", base_url: str) -> list[str]:
    """Every resource the page asked for that is not on the bank's own address."""
    names: list[str] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [name for name in names if not name.startswith(base_url + "/")]


def blank_canvases(driver: "WebDriver") -> list[str]:
    """The ids of the canvases on the page that have not a single painted pixel."""
    blank: list[str] = driver.execute_script(
        """
        return [...document.querySelectorAll('canvas')].filter(canvas => {
          if (!canvas.width || !canvas.height) return true;
          const pixels = canvas.getContext('2d')
            .getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return false;
          return true;
        }).map(canvas => canvas.id);
        """
    )
    return blank


def table_rows(driver: "WebDriver", table: str) -> list[str]:
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")]


def span(first: int, last: int, total: int) -> str:
    """How a pager says which rows it shows."""
    return f"{first}\u2013{last} of {total}"


def assert_clean(driver: "WebDriver", base_url: str) -> None:
    assert console_errors(driver) == []
    assert foreign_requests(driver, base_url) == []
    assert driver.find_element(By.ID, "error").is_displayed() is False


@pytest.mark.parametrize(
    ("name", "path", "charts"),
    [
        ("customers", "/explorer", 0),
        ("customer-john-doe", f"/explorer/customers/{JOHN}", 5),
        ("customer-jane-smith-eur", f"/explorer/customers/{JANE}?currency=EUR", 5),
        ("market", "/explorer/market", 19),
        ("sandboxes", "/explorer/sandboxes", 0),
    ],
)
def test_page_loads_cleanly_and_draws_its_charts(
    browser: "WebDriver", live_server: str, name: str, path: str, charts: int
) -> None:
    open_page(browser, live_server + path)
    screenshot(browser, name)
    assert_clean(browser, live_server)
    assert len(browser.find_elements(By.TAG_NAME, "canvas")) == charts
    assert blank_canvases(browser) == []


def test_customer_page_shows_the_apis_figures_formatted_for_people(
    browser: "WebDriver", live_server: str
) -> None:
    summary = httpx2.get(f"{live_server}/customer/{JOHN}/summary").json()
    open_page(browser, f"{live_server}/explorer/customers/{JOHN}")
    assert browser.find_element(By.ID, "customer-name").text == "John Doe"
    net_worth = summary["totals"]["net_worth"]
    assert f"{net_worth:,.2f} USD" in browser.find_element(By.ID, "totals").text
    holdings = table_rows(browser, "holdings")
    assert len(holdings) == len(summary["holdings"])
    for row, holding in zip(holdings, summary["holdings"], strict=True):
        # Symbol first, then the API's own figures as a person reads them.
        assert row.startswith(holding["symbol"] + " ")
        price = f"{holding['current_price']:,.2f} {holding['currency']}"
        value = f"{holding['market_value']:,.2f} {holding['currency']}"
        assert price in row and value in row, (row, price, value)
    assert "short" in browser.find_element(By.ID, "derivatives").text


def test_market_page_shows_the_apis_quotes_and_a_year_of_closes(
    browser: "WebDriver", live_server: str
) -> None:
    market = httpx2.get(f"{live_server}/market-data").json()
    open_page(browser, f"{live_server}/explorer/market")
    assert browser.find_element(By.ID, "market-as-of").text == f"as of {market['as_of']}"
    rows = table_rows(browser, "quotes")
    assert len(rows) == len(market["quotes"])
    for row, quote in zip(rows, market["quotes"], strict=True):
        assert row.startswith(f"{quote['symbol']} {quote['name']} ")
        assert f"{quote['price']:,.2f} {quote['currency']}" in row
    symbol = market["quotes"][0]["symbol"]
    closes = httpx2.get(f"{live_server}/market-data/{symbol}/history").json()["closes"]
    drawn = browser.execute_script(
        f"return Chart.getChart('history-{symbol}').data.datasets[0].data"
    )
    assert drawn == [close["close"] for close in closes]
    assert_clean(browser, live_server)


PROFILES_READ = "return !document.querySelector('#customers td.muted')"
"""Each listed customer's profile cells are filled (they read "…" until then)."""


def test_customer_search_and_paging_by_clicking(browser: "WebDriver", live_server: str) -> None:
    for n in range(21):
        registered = httpx2.post(
            f"{live_server}/register-customer", json={"name": f"Pagerwell Client {n:02d}"}
        )
        assert registered.status_code == 200
    open_page(browser, f"{live_server}/explorer")
    assert "Jane Smith" in "\n".join(table_rows(browser, "customers"))

    browser.find_element(By.ID, "search-name").send_keys("smi")
    browser.find_element(By.ID, "search-button").click()
    wait_until(browser, "return document.querySelectorAll('#customers tbody tr').length === 1")
    wait_until(browser, PROFILES_READ)
    [jane] = table_rows(browser, "customers")
    assert jane.startswith(f"Jane Smith {JANE} person ")

    search = browser.find_element(By.ID, "search-name")
    search.clear()
    search.send_keys("pagerwell")
    browser.find_element(By.ID, "search-button").click()
    customers_pager = "return document.getElementById('customers-page').textContent"
    wait_until(browser, f"{customers_pager} === '{span(1, 20, 21)}'")
    wait_until(browser, PROFILES_READ)
    first_page = table_rows(browser, "customers")
    assert browser.find_element(By.ID, "customers-previous").is_enabled() is False
    browser.find_element(By.ID, "customers-next").click()
    wait_until(browser, f"{customers_pager} === '{span(21, 21, 21)}'")
    wait_until(browser, PROFILES_READ)
    second_page = table_rows(browser, "customers")
    assert len(first_page) == 20
    assert len(second_page) == 1
    assert second_page[0].startswith("Pagerwell Client 20")
    assert not set(first_page) & set(second_page)
    assert browser.find_element(By.ID, "customers-next").is_enabled() is False
    screenshot(browser, "customers-search-page-2")

    browser.find_element(By.ID, "customers-previous").click()
    wait_until(browser, f"{customers_pager} === '{span(1, 20, 21)}'")
    wait_until(browser, PROFILES_READ)
    assert table_rows(browser, "customers") == first_page
    assert browser.find_element(By.ID, "customers-previous").is_enabled() is False
    browser.find_element(By.ID, "customers-next").click()
    wait_until(browser, f"{customers_pager} === '{span(21, 21, 21)}'")

    browser.find_element(By.LINK_TEXT, "Pagerwell Client 20").click()
    wait_until(browser, "return document.body.dataset.state === 'ready'")
    assert browser.find_element(By.ID, "customer-name").text == "Pagerwell Client 20"
    assert_clean(browser, live_server)


def test_transaction_paging_and_filters_by_clicking(browser: "WebDriver", live_server: str) -> None:
    total = httpx2.get(f"{live_server}/customer/{JOHN}/transactions?limit=1").json()["total"]
    open_page(browser, f"{live_server}/explorer/customers/{JOHN}")
    pager = "return document.getElementById('transactions-page').textContent"
    assert browser.execute_script(pager) == span(1, 20, total)
    first_page = table_rows(browser, "transactions")

    browser.find_element(By.ID, "transactions-next").click()
    wait_until(browser, f"{pager} === '{span(21, 40, total)}'")
    second_page = table_rows(browser, "transactions")
    assert len(second_page) == 20
    assert first_page != second_page

    browser.find_element(By.CSS_SELECTOR, "#transaction-filters select[name=type]").send_keys("buy")
    browser.find_element(By.ID, "transactions-apply").click()
    buys = httpx2.get(f"{live_server}/customer/{JOHN}/transactions?type=buy").json()["total"]
    wait_until(browser, f"{pager}.endsWith(' of {buys}')")
    assert all(" buy " in row for row in table_rows(browser, "transactions"))
    screenshot(browser, "customer-transactions-buy")

    browser.find_element(By.CSS_SELECTOR, "#transaction-filters input[name=min_amount]").send_keys(
        "lots"
    )
    browser.find_element(By.ID, "transactions-apply").click()
    wait_until(browser, "return !document.getElementById('error').hidden")
    assert "min_amount" in browser.find_element(By.ID, "error").text


def account_name(account: dict[str, Any]) -> str:
    """How the explorer names an account to a person: its kind and last four digits."""
    return f"{account['account_type']} ..{account['account_number'][-4:]}"


def instruction_card(driver: "WebDriver", instruction_id: int) -> str:
    return str(driver.find_element(By.ID, f"instruction-{instruction_id}").text)


def test_instructions_given_through_the_api_show_with_their_effects(
    browser: "WebDriver", live_server: str
) -> None:
    oid = sample_oid("ABC Corporation")
    base = f"{live_server}/customer/{oid}"
    page = f"{live_server}/explorer/customers/{oid}"
    open_page(browser, page)
    assert browser.find_element(By.ID, "instructions").text.startswith("No instructions yet")
    payees = httpx2.get(f"{base}/payees").json()["payees"]
    assert payees, "the sample company pays someone"
    shown_payees = table_rows(browser, "payees")
    assert len(shown_payees) == len(payees)
    for row, listed_payee in zip(shown_payees, payees, strict=True):
        assert row.startswith(listed_payee["name"] + " ")
        assert f"{listed_payee['last_amount']:,.2f} {listed_payee['currency']}" in row

    accounts = httpx2.get(f"{base}/accounts").json()["bank_accounts"]
    usd = next(a for a in accounts if a["currency"] == "USD" and a["account_type"] == "checking")
    gbp = next(a for a in accounts if a["currency"] == "GBP")
    names = {a["id"]: account_name(a) for a in accounts}
    sent = httpx2.post(
        f"{base}/transfers",
        json={"from_account_id": gbp["id"], "to_account_id": usd["id"], "amount": "1500.00"},
    )
    assert sent.status_code == 201, sent.text
    transfer = sent.json()
    bought = httpx2.post(f"{base}/orders", json={"side": "buy", "symbol": "MSFT", "quantity": 5})
    assert bought.status_code == 201, bought.text
    order = bought.json()
    payee = payees[0]
    later = httpx2.post(
        f"{base}/payments",
        json={
            "from_account_id": usd["id"],
            "amount": "99.90",
            "payee": {key: payee[key] for key in ("name", "account_number", "routing_number")},
            "execute_on": "2026-10-15",
        },
    )
    assert later.status_code == 201, later.text
    payment = later.json()
    assert payment["status"] == "scheduled"

    open_page(browser, page)
    assert browser.find_element(By.ID, "instructions-count").text == "3 in all"
    listed = browser.find_elements(By.CSS_SELECTOR, "#instructions > .instruction")
    newest_first = [payment, order, transfer]
    assert [card.get_attribute("id") for card in listed] == [
        f"instruction-{i['instruction_id']}" for i in newest_first
    ]

    card = instruction_card(browser, transfer["instruction_id"])
    assert f"Transfer 1,500.00 GBP from {names[gbp['id']]} to {names[usd['id']]}" in card
    conversion = transfer["effects"]["conversion"]
    assert f"{conversion['received']:,.2f} USD" in card
    for row in transfer["effects"]["transactions"]:
        assert f"{row['description']} {names[row['account_id']]} " in card
        assert f"{row['amount']:,.2f} {row['currency']}" in card
    for balance in transfer["effects"]["balances"]:
        assert f"{names[balance['account_id']]} {balance['balance']:,.2f}" in card
    income = transfer["effects"]["bank_income"][0]
    assert f"fx spread {income['amount']:,.2f} {income['currency']}" in card

    card = instruction_card(browser, order["instruction_id"])
    fill = order["effects"]["fill"]
    assert "Buy 5 MSFT into brokerage" in card
    assert f"5 MSFT at {fill['price']:,.2f} USD (close {fill['close']:,.2f})" in card
    holding = order["effects"]["holdings"][0]
    assert f"MSFT {holding['quantity_before']:,.0f} → {holding['quantity_after']:,.0f}" in card
    assert f"commission {fill['commission']:,.2f} USD" in card

    card = instruction_card(browser, payment["instruction_id"])
    assert f"Pay 99.90 USD to {payee['name']}" in card and "on 2026-10-15" in card
    assert "scheduled" in card and "nothing is booked until then" in card

    # The statement marks the rows an instruction booked, and each mark leads to it.
    statement = table_rows(browser, "transactions")
    for instruction in (transfer, order):
        mark = f"instruction #{instruction['instruction_id']}"
        assert sum(mark in row for row in statement) == len(instruction["effects"]["transactions"])
    assert not any(f"instruction #{payment['instruction_id']}" in row for row in statement)
    marked = browser.find_elements(By.CSS_SELECTOR, "#transactions tr.from-instruction")
    assert len(marked) == 4
    screenshot(browser, "customer-instructions")
    link = browser.find_element(By.LINK_TEXT, f"instruction #{transfer['instruction_id']}")
    link.click()
    target = f"instruction-{transfer['instruction_id']}"
    wait_until(browser, f"return location.hash === '#{target}'")
    assert browser.execute_script(f"return document.getElementById('{target}').open") is True
    assert_clean(browser, live_server)


ABC = sample_oid("ABC Corporation")
SANDBOX_STORAGE = "dummy-bank-sandbox"


def test_customer_list_shows_each_customers_profile(browser: "WebDriver", live_server: str) -> None:
    open_page(browser, f"{live_server}/explorer")
    assert browser.execute_script(PROFILES_READ) is True
    rows = table_rows(browser, "customers")
    listed = httpx2.get(f"{live_server}/customers?limit=20").json()
    assert len(rows) == len(listed)
    for row, customer in zip(rows[:5], listed[:5], strict=True):
        profile = httpx2.get(f"{live_server}/customer/{customer['customer_oid']}/profile").json()
        age = (
            f"founded {profile['founded_on'][:4]}"
            if profile["kind"] == "company"
            else profile["age"]
        )
        assert row.startswith(
            f"{customer['name']} {customer['customer_oid']} {profile['kind']} {age} "
        )
        assert profile["risk_tolerance"].replace("_", " ") in row
        assert row.endswith(f" {profile['net_worth']:,.2f}"), (row, profile["net_worth"])
    assert_clean(browser, live_server)


def test_an_unknown_customer_gets_a_sentence_not_an_empty_page(
    browser: "WebDriver", live_server: str
) -> None:
    open_page(browser, f"{live_server}/explorer/customers/{UNKNOWN}")
    screenshot(browser, "customer-unknown")
    assert browser.find_element(By.ID, "customer-name").text == "No such customer"
    message = browser.find_element(By.ID, "not-found")
    assert message.is_displayed()
    assert f"No customer has the CustomerOID {UNKNOWN} in this bank" in message.text
    # Nothing of a customer's page is left standing around the sentence.
    assert browser.find_element(By.ID, "customer-content").is_displayed() is False
    assert not [c for c in browser.find_elements(By.TAG_NAME, "canvas") if c.is_displayed()]
    assert "performance" not in browser.find_element(By.TAG_NAME, "main").text
    assert_clean(browser, live_server)


def test_the_singular_customer_address_leads_to_the_customers_page(
    browser: "WebDriver", live_server: str
) -> None:
    open_page(browser, f"{live_server}/explorer/customer/{JANE}?currency=GBP")
    assert browser.current_url == f"{live_server}/explorer/customers/{JANE}?currency=GBP"
    assert browser.find_element(By.ID, "customer-name").text == "Jane Smith"
    assert_clean(browser, live_server)


ONE_LINE_FIGURES = """
return [...document.querySelectorAll('.card .figure')].map(figure => {
  const box = figure.getBoundingClientRect();
  return {text: figure.textContent, height: box.height,
          line: parseFloat(getComputedStyle(figure).lineHeight),
          overflows: figure.scrollWidth > figure.clientWidth + 1 ||
                     box.right > figure.parentElement.getBoundingClientRect().right};
});
"""


@pytest.mark.parametrize(("oid", "currency"), [(JOHN, "USD"), (ABC, "USD"), (ABC, "GBP")])
def test_headline_figures_stay_on_one_line_at_1400_pixels(
    browser: "WebDriver", live_server: str, oid: str, currency: str
) -> None:
    browser.set_window_size(1400, 1000)
    open_page(browser, f"{live_server}/explorer/customers/{oid}?currency={currency}")
    assert browser.execute_script("return window.outerWidth") == 1400
    figures = browser.execute_script(ONE_LINE_FIGURES)
    assert len(figures) == 11  # six totals, five risk figures
    for figure in figures:
        assert figure["height"] < 1.5 * figure["line"], figure
        assert figure["overflows"] is False, figure


AXIS_LABEL_BOXES = """
const boxes = [];
for (const canvas of document.querySelectorAll('canvas')) {
  const chart = Chart.getChart(canvas);
  if (!chart) continue;
  const context = canvas.getContext('2d');
  for (const scale of Object.values(chart.scales)) {
    if (!scale.options.display || !scale.options.ticks.display) continue;
    for (const item of scale.getLabelItems()) {
      const lines = [].concat(item.label);
      const font = item.font || Chart.helpers.toFont(scale.options.ticks.font);
      context.font = font.string;
      const width = Math.max(...lines.map(line => context.measureText(String(line)).width));
      const height = font.lineHeight * lines.length;
      const [x, y] = item.options.translation;
      const align = item.options.textAlign;
      const left = align === 'center' ? x - width / 2 : align === 'right' ? x - width : x;
      const baseline = item.options.textBaseline;
      const top0 = y + item.textOffset;
      const top = baseline === 'middle' ? top0 - height / 2 :
                  baseline === 'top' ? top0 : top0 - height;
      boxes.push({chart: canvas.id, axis: scale.id, label: lines.join(' '),
                  rotation: item.options.rotation, left, right: left + width, top,
                  bottom: top + height});
    }
  }
}
return boxes;
"""


def overlapping_labels(boxes: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Pairs of axis labels of one chart whose boxes share some area."""
    found = []
    for i, one in enumerate(boxes):
        for other in boxes[i + 1 :]:
            if one["chart"] != other["chart"]:
                continue
            apart = (
                one["right"] <= other["left"]
                or other["right"] <= one["left"]
                or one["bottom"] <= other["top"]
                or other["bottom"] <= one["top"]
            )
            if not apart:
                found.append((one["chart"], one["label"], other["label"]))
    return found


@pytest.mark.parametrize("path", ["/explorer/market", f"/explorer/customers/{JOHN}"])
def test_no_two_axis_labels_overlap(browser: "WebDriver", live_server: str, path: str) -> None:
    browser.set_window_size(1400, 1000)
    open_page(browser, live_server + path)
    boxes = browser.execute_script(AXIS_LABEL_BOXES)
    charts = {box["chart"] for box in boxes}
    assert len(charts) == len(browser.find_elements(By.TAG_NAME, "canvas")) - (
        2 if "customers" in path else 0  # the two donuts have no axes
    )
    assert all(box["rotation"] == 0 for box in boxes), "labels are printed flat"
    assert overlapping_labels(boxes) == []


def test_overlapping_labels_are_found() -> None:
    """The check above can fail: two dates printed into each other are caught."""
    one = {"chart": "c", "label": "2025-09-30", "left": 0, "right": 60, "top": 0, "bottom": 12}
    other = {**one, "label": "2025-12-31", "left": 55, "right": 115}
    assert overlapping_labels([one, other]) == [("c", "2025-09-30", "2025-12-31")]
    assert overlapping_labels([one, {**other, "left": 60, "right": 120}]) == []


def test_risk_panel_and_profile_show_the_apis_figures(
    browser: "WebDriver", live_server: str
) -> None:
    risk = httpx2.get(f"{live_server}/customer/{JOHN}/risk").json()
    profile = httpx2.get(f"{live_server}/customer/{JOHN}/profile").json()
    open_page(browser, f"{live_server}/explorer/customers/{JOHN}")
    figures = browser.find_element(By.ID, "risk-figures").text
    var = next(
        v for v in risk["value_at_risk"] if (v["confidence_percent"], v["horizon_days"]) == (95, 1)
    )
    assert f"{var['historical_var']:,.2f} USD" in figures
    assert f"{risk['drawdown']['max_drawdown_percent']:,.2f}%" in figures
    assert f"peak {risk['drawdown']['peak_date']}" in figures
    assert f"{risk['volatility_percent']:,.2f}%" in figures
    worst = next(s for s in risk["stress_tests"] if s["name"] == risk["worst_scenario"])
    assert f"{worst['pnl']:,.2f} USD" in figures and worst["title"] in figures

    var_rows = table_rows(browser, "value-at-risk")
    assert len(var_rows) == len(risk["value_at_risk"])
    for row, v in zip(var_rows, risk["value_at_risk"], strict=True):
        assert row.startswith(f"{v['confidence_percent']}% {v['horizon_days']} day")
        assert f"{v['parametric_expected_shortfall']:,.2f}" in row

    stress = browser.execute_script(
        "const c = Chart.getChart('chart-stress');"
        "return {labels: c.data.labels, values: c.data.datasets[0].data};"
    )
    assert stress == {
        "labels": [s["title"] for s in risk["stress_tests"]],
        "values": [s["pnl"] for s in risk["stress_tests"]],
    }
    greeks = table_rows(browser, "greeks")
    positions = risk["options"]["positions"]
    assert positions and len(greeks) == len(positions)
    for row, option in zip(greeks, positions, strict=True):
        assert row.startswith(f"{option['underlying_symbol']} {option['option_type']} ")
        assert f"{option['delta']:,.4f}".rstrip("0") in row
        assert f"{option['delta_exposure']:,.2f}" in row

    shown = browser.find_element(By.ID, "profile").text
    assert profile["email"] in shown and profile["phone"] in shown
    assert f"{profile['date_of_birth']} (age {profile['age']})" in shown
    assert f"{profile['annual_income']:,.2f} USD" in shown
    assert_clean(browser, live_server)


def test_with_nothing_invested_the_risk_panel_says_why(
    browser: "WebDriver", live_server: str
) -> None:
    registered = httpx2.post(f"{live_server}/register-customer", json={"name": "Idle Saver"})
    oid = registered.json()["customer_oid"]
    reason = httpx2.get(f"{live_server}/customer/{oid}/risk").json()["reason"]
    assert reason
    open_page(browser, f"{live_server}/explorer/customers/{oid}")
    assert browser.find_element(By.ID, "risk-reason").text == reason
    assert browser.find_element(By.ID, "risk-content").is_displayed() is False
    assert_clean(browser, live_server)


def create_sandbox(base_url: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    created = httpx2.post(f"{base_url}/sandboxes", json=body, headers=headers or {}, timeout=60)
    assert created.status_code == 201, created.text
    return created.json()


def call_tool(base_url: str, sandbox_id: str, tool: str, arguments: dict[str, Any]) -> None:
    answered = httpx2.post(
        f"{base_url}/mcp",
        headers={"X-Bank-Sandbox": sandbox_id, "Accept": "application/json, text/event-stream"},
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        },
    )
    assert answered.status_code == 200, answered.text


def set_field(driver: "WebDriver", selector: str, value: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))",
        field,
        value,
    )


def test_sandbox_page_shows_settings_fault_rules_and_the_trace(
    browser: "WebDriver", live_server: str
) -> None:
    sandbox = create_sandbox(live_server, label="explorer tour")
    sandbox_id = sandbox["sandbox_id"]
    base = f"{live_server}/sandboxes/{sandbox_id}"
    rule = {"match": "GET /customer/*/summary", "rate": 0.5, "status": 503}
    assert httpx2.put(f"{base}/faults", json={"seed": 3, "rules": [rule]}).status_code == 200
    inside = {"X-Bank-Sandbox": sandbox_id}
    for _ in range(12):
        httpx2.get(f"{live_server}/customer/{JOHN}/summary", headers=inside)
    httpx2.get(f"{live_server}/market-data", headers=inside)
    call_tool(live_server, sandbox_id, "bank_portfolio_summary", {"customer_oid": JOHN})
    call_tool(live_server, sandbox_id, "bank_market_data", {"symbols": ["AAPL"]})
    calls = httpx2.get(f"{base}/requests").json()["requests"]
    fired = httpx2.get(f"{base}/faults").json()["rules"][0]["fired"]
    assert len(calls) == 15 and 0 < fired < 12

    open_page(browser, f"{live_server}/explorer/sandboxes/{sandbox_id}")
    assert browser.find_element(By.ID, "sandbox-label").text == "“explorer tour”"
    settings = browser.find_element(By.ID, "settings").text
    assert "the five samples and 0 synthetic" in settings and "refused (read only)" in settings
    assert table_rows(browser, "faults") == [
        f"0 GET /customer/*/summary 50.00% 503 0 ms 1 s {fired}"
    ]
    assert browser.find_element(By.ID, "trace-count").text == "15 calls"
    pager = "return document.getElementById('trace-page').textContent"
    assert browser.execute_script(pager) == span(1, 15, 15)
    rows = table_rows(browser, "trace")
    # Newest first: the last MCP call heads the table, with its tool and arguments.
    assert (
        rows[0].startswith("15 ") and 'mcp bank_market_data {"symbols":["AAPL"]} 200 ok' in rows[0]
    )
    assert f'mcp bank_portfolio_summary {{"customer_oid":"{JOHN}"}} 200 ok' in rows[1]
    faulted = [c for c in calls if c["fault"]]
    assert len(faulted) == fired
    assert sum("rule 0: GET /customer/*/summary" in row for row in rows) == fired
    screenshot(browser, "sandbox")

    set_field(browser, "#trace-filters select[name=kind]", "mcp")
    browser.find_element(By.ID, "trace-apply").click()
    wait_until(browser, f"{pager} === '{span(1, 2, 2)}'")
    assert all(" mcp " in row for row in table_rows(browser, "trace"))
    set_field(browser, "#trace-filters select[name=kind]", "")
    set_field(browser, "#trace-filters select[name=fault]", "yes")
    browser.find_element(By.ID, "trace-apply").click()
    wait_until(browser, f"{pager} === '{span(1, fired, fired)}'")
    assert all(" 503 " in row for row in table_rows(browser, "trace"))
    set_field(browser, "#trace-filters select[name=fault]", "")
    set_field(browser, "#trace-filters select[name=limit]", "10")
    browser.find_element(By.ID, "trace-filters").find_element(By.NAME, "text").send_keys("summary")
    browser.find_element(By.ID, "trace-apply").click()
    wait_until(browser, f"{pager} === '{span(1, 10, 13)}'")
    assert browser.find_element(By.ID, "trace-previous").is_enabled() is False
    browser.find_element(By.ID, "trace-next").click()
    wait_until(browser, f"{pager} === '{span(11, 13, 13)}'")
    assert browser.find_element(By.ID, "trace-next").is_enabled() is False
    assert table_rows(browser, "trace")[-1].startswith("1 ")
    browser.find_element(By.ID, "trace-previous").click()
    wait_until(browser, f"{pager} === '{span(1, 10, 13)}'")
    screenshot(browser, "sandbox-trace-filtered")

    form = browser.find_element(By.ID, "fault-form")
    form.find_element(By.NAME, "match").send_keys("mcp bank_market_data")
    set_field(browser, "#fault-form input[name=rate]", "1")
    browser.find_element(By.ID, "fault-add").click()
    wait_until(browser, "return document.querySelectorAll('#faults tbody tr').length === 2")
    rules = httpx2.get(f"{base}/faults").json()["rules"]
    assert [(r["match"], r["rate"], r["fired"]) for r in rules] == [
        ("GET /customer/*/summary", 0.5, fired),
        ("mcp bank_market_data", 1.0, 0),
    ]
    browser.find_element(By.ID, "faults-clear").click()
    wait_until(browser, "return document.getElementById('faults').textContent.includes('No fault')")
    assert httpx2.get(f"{base}/faults").json()["rules"] == []

    browser.execute_script("window.confirm = () => true")
    browser.find_element(By.ID, "sandbox-reset").click()
    wait_until(browser, "return document.getElementById('trace-count').textContent === '0 calls'")
    assert httpx2.get(f"{base}/requests").json()["requests"] == []
    assert "Reset" in browser.find_element(By.ID, "sandbox-said").text
    assert_clean(browser, live_server)

    try:
        browser.find_element(By.ID, "sandbox-use").click()
        wait_until(browser, f"return document.getElementById('sandbox').value === '{sandbox_id}'")
        wait_until(browser, "return document.body.dataset.state === 'ready'")
        assert browser.find_element(By.ID, "sandbox-use").is_enabled() is False
    finally:
        browser.execute_script(f"sessionStorage.removeItem('{SANDBOX_STORAGE}')")


def test_an_unknown_sandbox_gets_a_sentence(browser: "WebDriver", live_server: str) -> None:
    gone = "sbx_AAAAAAAAAAAAAAAAAAAA"
    open_page(browser, f"{live_server}/explorer/sandboxes/{gone}")
    assert browser.find_element(By.ID, "not-found").is_displayed()
    assert f"No live sandbox has the id {gone}" in browser.find_element(By.ID, "not-found").text
    assert browser.find_element(By.ID, "sandbox-content").is_displayed() is False
    assert browser.find_element(By.ID, "error").is_displayed() is False
    # The one console line is the browser's own note of the API's 404.
    assert [m for m in console_errors(browser) if "404" not in m] == []


def test_the_header_reads_the_explorer_through_a_chosen_sandbox(
    browser: "WebDriver", live_server: str
) -> None:
    sandbox = create_sandbox(live_server, label="two more", customers=2, seed=5)
    sandbox_id = sandbox["sandbox_id"]
    inside = httpx2.get(f"{live_server}/customers", headers={"X-Bank-Sandbox": sandbox_id})
    shared_total = httpx2.get(f"{live_server}/customers").headers["X-Total-Count"]
    assert inside.headers["X-Total-Count"] == "7" != shared_total
    open_page(browser, f"{live_server}/explorer/sandboxes")
    listed = httpx2.get(f"{live_server}/sandboxes").json()
    rows = table_rows(browser, "sandboxes")
    assert len(rows) == len(listed)
    row = next(row for row in rows if row.startswith(sandbox_id))
    assert row.startswith(f"{sandbox_id} two more 5 2 read only ")
    assert_clean(browser, live_server)
    open_page(browser, f"{live_server}/explorer")
    options = browser.execute_script(
        "return [...document.getElementById('sandbox').options].map(o => o.value)"
    )
    assert options[0] == "" and sandbox_id in options
    try:
        set_field(browser, "#sandbox", sandbox_id)
        wait_until(
            browser,
            "return document.getElementById('customer-count').textContent === '7 customers'",
        )
        wait_until(browser, "return document.body.dataset.state === 'ready'")
        assert [row.split(" ")[0:2] for row in table_rows(browser, "customers")[:1]] == [
            ["John", "Doe"]
        ]
        synthetic = inside.json()[-1]
        assert table_rows(browser, "customers")[-1].startswith(synthetic["name"])
        screenshot(browser, "customers-in-a-sandbox")
        open_page(browser, f"{live_server}/explorer/customers/{JOHN}")
        assert (
            browser.execute_script("return document.getElementById('sandbox').value") == sandbox_id
        )
        assert browser.find_element(By.ID, "customer-name").text == "John Doe"
        assert_clean(browser, live_server)
        traced = httpx2.get(f"{live_server}/sandboxes/{sandbox_id}/requests").json()["requests"]
        paths = {call["path"].split("?")[0] for call in traced}
        assert "/customers" in paths and f"/customer/{JOHN}/summary" in paths
        assert f"/customer/{JOHN}/risk" in paths
        open_page(browser, f"{live_server}/explorer/customers/{UNKNOWN}")
        assert f"in the sandbox {sandbox_id}" in browser.find_element(By.ID, "not-found").text
        set_field(browser, "#sandbox", "")
        wait_until(
            browser,
            "return document.body.dataset.state === 'ready' && "
            "document.getElementById('sandbox').value === ''",
        )
    finally:
        browser.execute_script(f"sessionStorage.removeItem('{SANDBOX_STORAGE}')")


def test_a_sandbox_that_is_gone_gives_the_shared_bank_back(
    browser: "WebDriver", live_server: str
) -> None:
    sandbox_id = create_sandbox(live_server)["sandbox_id"]
    open_page(browser, f"{live_server}/explorer")
    browser.execute_script(f"sessionStorage.setItem('{SANDBOX_STORAGE}', '{sandbox_id}')")
    assert httpx2.delete(f"{live_server}/sandboxes/{sandbox_id}").status_code == 200
    open_page(browser, f"{live_server}/explorer")
    assert f"The sandbox {sandbox_id} is gone" in browser.find_element(By.ID, "notice").text
    assert browser.execute_script(f"return sessionStorage.getItem('{SANDBOX_STORAGE}')") is None
    shared_total = int(httpx2.get(f"{live_server}/customers").headers["X-Total-Count"])
    count = browser.find_element(By.ID, "customer-count").text
    assert count == f"{shared_total:,} customers"


def test_with_keys_the_explorer_asks_once_per_session(
    browser: "WebDriver", database_url: str, sqlite_only: None
) -> None:
    with serve(database_url, BANK_READ_API_KEY=API_KEY) as base_url:
        browser.get(f"{base_url}/explorer/customers/{JOHN}")
        wait_until(browser, "return document.getElementById('key-dialog').open")
        screenshot(browser, "api-key-prompt")
        browser.find_element(By.ID, "key-input").send_keys(API_KEY)
        browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
        wait_until(browser, "return document.body.dataset.state === 'ready'")
        assert browser.find_element(By.ID, "customer-name").text == "John Doe"

        open_page(browser, f"{base_url}/explorer/market")
        assert browser.execute_script("return document.getElementById('key-dialog').open") is False
        assert blank_canvases(browser) == []
        browser.find_element(By.ID, "forget-key").click()
        wait_until(browser, "return document.getElementById('key-dialog').open")


def test_with_a_sandbox_key_the_explorer_reads_that_sandbox(
    browser: "WebDriver", database_url: str, sqlite_only: None
) -> None:
    full = {"X-API-Key": FULL_KEY}
    with serve(database_url, BANK_API_KEY=FULL_KEY, BANK_READ_API_KEY=API_KEY) as base_url:
        sandbox = create_sandbox(base_url, full, customers=1, seed=2)
        browser.get(f"{base_url}/explorer")
        wait_until(browser, "return document.getElementById('key-dialog').open")
        browser.find_element(By.ID, "key-input").send_keys(sandbox["sandbox_key"])
        browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
        wait_until(browser, "return document.body.dataset.state === 'ready'")
        # The key names its sandbox: the selector shows it and offers nothing else.
        selector = browser.find_element(By.ID, "sandbox")
        assert selector.get_attribute("value") == sandbox["sandbox_id"]
        assert selector.is_enabled() is False
        assert browser.find_element(By.ID, "customer-count").text == "6 customers"
        screenshot(browser, "customers-with-a-sandbox-key")
        open_page(browser, f"{base_url}/explorer/customers/{JOHN}")
        assert browser.find_element(By.ID, "customer-name").text == "John Doe"
        assert_clean(browser, base_url)
        trace = httpx2.get(f"{base_url}/sandboxes/{sandbox['sandbox_id']}/requests", headers=full)
        paths = {call["path"].split("?")[0] for call in trace.json()["requests"]}
        assert f"/customer/{JOHN}/summary" in paths
        # The sandboxes page is the bank's, not the agent's: its key may not list them.
        open_page(browser, f"{base_url}/explorer/sandboxes")
        assert "needs the full key" in browser.find_element(By.ID, "sandboxes-refused").text


def test_explorer_pages_are_not_api_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/explorer")]


def test_browsers_at_the_root_go_to_the_explorer_and_api_clients_get_json(
    client: TestClient,
) -> None:
    browser_visit = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert browser_visit.status_code == 307
    assert browser_visit.headers["location"] == "/explorer"
    api_call = client.get("/", headers={"Accept": "application/json"})
    assert api_call.status_code == 404
    assert api_call.json()["detail"] == "Not Found"


def test_explorer_pages_load_nothing_from_another_host(client: TestClient) -> None:
    page = client.get(f"/explorer/customers/{JOHN}")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text
    assert "https://" not in page.text


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/explorer/customers/not-an-id", "customer_oid"),
        ("/explorer?currency=XYZ", "currency: 'XYZ' is not supported"),
        (f"/explorer/customers/{JOHN}?currency=yen", "currency"),
        ("/explorer/sandboxes/sbx_nope", "Invalid sandbox id 'sbx_nope'"),
    ],
)
def test_bad_explorer_input_is_a_400_that_names_the_field(
    client: TestClient, path: str, detail: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert detail in html.unescape(response.text)


def test_the_singular_customer_address_redirects_with_its_query(client: TestClient) -> None:
    answer = client.get(f"/explorer/customer/{JOHN}?currency=EUR", follow_redirects=False)
    assert answer.status_code == 308
    assert answer.headers["location"] == f"/explorer/customers/{JOHN}?currency=EUR"
    # Deeper paths are the API's, as before: JSON, not a page.
    deeper = client.get(f"/explorer/customer/{JOHN}/summary")
    assert deeper.status_code == 404
    assert deeper.json()["detail"] == "Not Found"


def test_holdings_value_line_meets_the_summarys_performance(client: TestClient) -> None:
    summary = client.get(f"/customer/{JOHN}/summary?currency=EUR").json()
    history = client.get(f"/explorer/data/customer/{JOHN}/holdings-value?currency=EUR")
    assert history.status_code == 200
    points = {point["date"]: point["value"] for point in history.json()["points"]}
    periods = summary["performance"]["periods"]
    assert points[summary["as_of"]] == periods[0]["end_value"]
    for period in periods:
        if period["start_date"] in points:
            assert points[period["start_date"]] == period["start_value"]


def test_holdings_value_of_an_unknown_customer_is_404(client: TestClient) -> None:
    oid = "550e8400-e29b-41d4-a716-446655440000"
    response = client.get(f"/explorer/data/customer/{oid}/holdings-value")
    assert response.status_code == 404
    assert response.json()["detail"] == f"Customer with CustomerOID '{oid}' not found"


def test_screenshot_folder_is_ignored_by_git() -> None:
    assert "test-artifacts/" in (PROJECT / ".gitignore").read_text().splitlines()
