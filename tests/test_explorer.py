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
from tests.helpers import JANE, JOHN, PROJECT, require_or_skip, sample_oid

SCREENSHOTS = PROJECT / "test-artifacts" / "screenshots"
API_KEY = "explorer-test-key"

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
        ("customer-john-doe", f"/explorer/customers/{JOHN}", 4),
        ("customer-jane-smith-eur", f"/explorer/customers/{JANE}?currency=EUR", 4),
        ("market", "/explorer/market", 19),
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
    assert table_rows(browser, "customers") == [f"Jane Smith {JANE}"]

    search = browser.find_element(By.ID, "search-name")
    search.clear()
    search.send_keys("pagerwell")
    browser.find_element(By.ID, "search-button").click()
    customers_pager = "return document.getElementById('customers-page').textContent"
    wait_until(browser, f"{customers_pager} === '{span(1, 20, 21)}'")
    first_page = table_rows(browser, "customers")
    browser.find_element(By.ID, "customers-next").click()
    wait_until(browser, f"{customers_pager} === '{span(21, 21, 21)}'")
    second_page = table_rows(browser, "customers")
    assert len(first_page) == 20
    assert len(second_page) == 1
    assert second_page[0].startswith("Pagerwell Client 20")
    assert not set(first_page) & set(second_page)
    assert browser.find_element(By.ID, "customers-next").is_enabled() is False
    screenshot(browser, "customers-search-page-2")

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
    ],
)
def test_bad_explorer_input_is_a_400_that_names_the_field(
    client: TestClient, path: str, detail: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert detail in html.unescape(response.text)


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
