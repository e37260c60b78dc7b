// The explorer's pages: every figure is read from the bank's REST API, as an agent reads it.
"use strict";

const KEY_STORAGE = "dummy-bank-api-key";
const body = document.body;
const PREFIX = body.dataset.prefix;
const CURRENCY = body.dataset.currency;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// ---- reading the API, with the key the visitor gave once ----

let keyPrompt = null;

function askForKey(refused) {
  // Several requests may be refused at once; they all wait for the same answer.
  if (keyPrompt) return keyPrompt;
  const dialog = document.getElementById("key-dialog");
  document.getElementById("key-refused").hidden = !refused;
  keyPrompt = new Promise((resolve) => {
    const form = document.getElementById("key-form");
    form.addEventListener("submit", function submitted() {
      const key = document.getElementById("key-input").value.trim();
      sessionStorage.setItem(KEY_STORAGE, key);
      keyPrompt = null;
      showForgetKey();
      resolve();
    }, { once: true });
    dialog.showModal();
  });
  return keyPrompt;
}

const SANDBOX_STORAGE = "dummy-bank-sandbox";

// The sandbox the pages read through, if one was chosen in the header (kept for this tab).
function chosenSandbox() {
  return sessionStorage.getItem(SANDBOX_STORAGE) || "";
}

// A sandbox key names its sandbox: sbk_<the id's 20 characters>_<secret>.
function sandboxOfKey(key) {
  const match = /^sbk_([A-Z2-7]{20})_/.exec(key || "");
  return match ? `sbx_${match[1]}` : "";
}

class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

// Reads (and a sandbox page's own controls) with the visitor's key, through the chosen
// sandbox; the sandboxes' own routes are the bank's, never a sandbox's.
async function api(path, { method = "GET", json } = {}) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = { Accept: "application/json" };
    if (key) headers["X-API-Key"] = key;
    const sandbox = chosenSandbox();
    if (sandbox && !path.startsWith("/sandboxes")) headers["X-Bank-Sandbox"] = sandbox;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, body: json === undefined ? undefined : JSON.stringify(json),
    });
    if (response.status === 401) {
      await askForKey(Boolean(key));
      continue;
    }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail; } catch (_) { /* not JSON: keep the status */ }
      throw new ApiError(response.status, detail);
    }
    return { data: await response.json(), headers: response.headers };
  }
}

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error.message || String(error);
  box.hidden = false;
}

function clearError() {
  document.getElementById("error").hidden = true;
}

function showForgetKey() {
  const button = document.getElementById("forget-key");
  button.hidden = !sessionStorage.getItem(KEY_STORAGE);
}

// ---- numbers for people ----

const twoDecimals = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const upToEight = new Intl.NumberFormat("en-US", { maximumFractionDigits: 8 });
const smallPrice = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumSignificantDigits: 6 });

function money(value, currency) {
  if (value === null || value === undefined) return "—";
  return `${twoDecimals.format(value)}${currency ? " " + currency : ""}`;
}

function price(value, currency) {
  if (value === null || value === undefined) return "—";
  // Two decimals, more only where they matter (a price under one unit).
  const text = Math.abs(value) < 1 && value !== 0 ? smallPrice.format(value) : twoDecimals.format(value);
  return `${text}${currency ? " " + currency : ""}`;
}

function quantity(value) {
  return value === null || value === undefined ? "—" : upToEight.format(value);
}

function percent(value, signed) {
  if (value === null || value === undefined) return "—";
  const sign = signed && value > 0 ? "+" : "";
  return `${sign}${twoDecimals.format(value)}%`;
}

function words(key) {
  return String(key).replaceAll("_", " ");
}

// ---- building the page ----

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillTable(id, rows, emptyText) {
  const tbody = document.querySelector(`#${id} tbody`);
  tbody.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = cell(emptyText, "muted");
    td.colSpan = document.querySelectorAll(`#${id} thead th`).length;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const row of rows) {
    // A row is its cells, or { cells, className } when the row itself is marked.
    const { cells, className } = Array.isArray(row) ? { cells: row, className: "" } : row;
    const tr = document.createElement("tr");
    if (className) tr.className = className;
    tr.append(...cells);
    tbody.append(tr);
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function signClass(value) {
  return value > 0 ? "num gain" : value < 0 ? "num loss" : "num";
}

function withCurrency(path) {
  return `${path}${path.includes("?") ? "&" : "?"}currency=${encodeURIComponent(CURRENCY)}`;
}

// Charts are drawn once, without animation, so what a screenshot shows is what is there.
function chart(id, config) {
  const canvas = document.getElementById(id);
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
  return new window.Chart(canvas, config);
}

function donut(id, slices) {
  return chart(id, {
    type: "doughnut",
    data: {
      labels: slices.map((s) => `${words(s.key)} ${percent(s.percent)}`),
      datasets: [{ data: slices.map((s) => s.value), backgroundColor: PALETTE }],
    },
    options: {
      plugins: {
        legend: { position: "right" },
        tooltip: { callbacks: { label: (c) => ` ${money(c.raw, CURRENCY)}` } },
      },
    },
  });
}

const monthYear = new Intl.DateTimeFormat("en-US", { month: "short", year: "numeric", timeZone: "UTC" });

// A time axis of daily labels: a few ticks, flat, named by month ("Oct 2025"), each with
// room around it, so that neighbours never print over each other in a small chart.
function dateAxis(maxTicks) {
  return {
    ticks: {
      maxTicksLimit: maxTicks, maxRotation: 0, autoSkip: true, autoSkipPadding: 24,
      callback(value) { return monthYear.format(new Date(this.getLabelForValue(value))); },
    },
  };
}

function moneyAxis(maxTicks) {
  const ticks = { callback: (v) => twoDecimals.format(v).replace(/\.00$/, "") };
  // A horizontal money axis: flat labels, as few as fit with room between them.
  if (maxTicks) Object.assign(ticks, { maxTicksLimit: maxTicks, maxRotation: 0, autoSkipPadding: 16 });
  return { ticks };
}

// ---- the customers page ----

function customersPage() {
  const limit = 20;
  const form = document.getElementById("search");
  const next = document.getElementById("customers-next");
  const previous = document.getElementById("customers-previous");
  const first = document.getElementById("customers-first");
  // The API pages forward only; the pages seen so far are how to go back.
  let pages = [];
  let nextUrl = null;

  function firstUrl() {
    const name = document.getElementById("search-name").value.trim();
    const query = new URLSearchParams({ limit: String(limit) });
    if (name) query.set("name", name);
    return `/customers?${query}`;
  }

  async function load(url, seen) {
    clearError();
    try {
      const { data, headers } = await api(url);
      pages = [...seen, url];
      const number = pages.length;
      const rows = data.map((c) => {
        const link = element("a", "", c.name);
        link.href = `${PREFIX}/customers/${encodeURIComponent(c.customer_oid)}?currency=${CURRENCY}`;
        const name = element("td");
        name.append(link);
        const row = { cells: [name, cell(c.customer_oid, "mono"), cell("…", "muted"), cell("…", "num muted"),
          cell("…", "muted"), cell("…", "muted"), cell("…", "num muted")], customer: c };
        return row;
      });
      fillTable("customers", rows, "No customer matches.");
      const total = Number(headers.get("X-Total-Count") || data.length);
      document.getElementById("customer-count").textContent =
        `${total.toLocaleString("en-US")} customer${total === 1 ? "" : "s"}`;
      const match = /<([^>]+)>;\s*rel="next"/.exec(headers.get("Link") || "");
      // The Link carries the server's own host name; the path and query are what matter here.
      nextUrl = match ? new URL(match[1], location.href).pathname + new URL(match[1], location.href).search : null;
      next.disabled = !nextUrl;
      previous.disabled = number === 1;
      first.disabled = number === 1;
      const start = (number - 1) * limit + 1;
      document.getElementById("customers-page").textContent =
        data.length ? `${start}–${start + data.length - 1} of ${total.toLocaleString("en-US")}` : "";
      await Promise.all(rows.map(profileCells));
    } catch (error) {
      showError(error);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(firstUrl(), []); });
  next.addEventListener("click", () => nextUrl && load(nextUrl, pages));
  previous.addEventListener("click", () => pages.length > 1 && load(pages.at(-2), pages.slice(0, -2)));
  first.addEventListener("click", () => load(firstUrl(), []));
  return load(firstUrl(), []);
}

// The list gives names and ids; the rest of a row is the customer's profile, read per row.
async function profileCells(row) {
  const [, , kind, age, tolerance, style, worth] = row.cells;
  const put = (td, text) => { td.textContent = text; td.classList.remove("muted"); };
  try {
    const { data: p } = await api(withCurrency(`/customer/${encodeURIComponent(row.customer.customer_oid)}/profile`));
    put(kind, p.kind);
    put(age, p.kind === "company" && p.founded_on ? `founded ${p.founded_on.slice(0, 4)}` : p.age === null ? "—" : String(p.age));
    put(tolerance, p.risk_tolerance ? words(p.risk_tolerance) : "—");
    put(style, p.portfolio_style ? words(p.portfolio_style) : "—");
    put(worth, money(p.net_worth));
  } catch (error) {
    // A customer deleted since the list was read has no profile; the row says so.
    put(kind, error.status === 404 ? "deleted" : "—");
    if (error.status !== 404) throw error;
  }
}

// ---- the customer page ----

async function customerPage() {
  const oid = body.dataset.customerOid;
  const base = `/customer/${encodeURIComponent(oid)}`;
  try {
    // Known or not is asked first: an unknown customer gets a sentence, not an empty page.
    const { data: exists } = await api(`${base}/exists`);
    if (!exists.exists) {
      customerNotFound(oid);
      return;
    }
    const transactions = transactionsSection(base);
    const { data: summary } = await api(withCurrency(`${base}/summary`));
    document.getElementById("customer-name").textContent = exists.name;
    document.title = `${exists.name} · Dummy Bank explorer`;
    document.getElementById("as-of").textContent = summary.as_of;
    totalsCards(summary);
    donut("chart-asset-type", summary.allocation.by_asset_type);
    donut("chart-currency", summary.allocation.by_currency);
    holdingsTable(summary.holdings);
    document.getElementById("performance").textContent = summary.performance.periods
      .map((p) => `${p.period} ${percent(p.return_percent, true)}`).join(" · ") || "—";
    // Accounts and positions are read once: their tables and the instructions both name them.
    const accounts = api(withCurrency(`${base}/accounts`)).then(({ data }) => data);
    const derivatives = api(`${base}/derivatives`).then(({ data }) => data.derivative_transactions);
    await Promise.all([
      profilePanel(base), riskPanel(base),
      holdingsValue(base), spendingChart(base, summary.spending.by_month),
      accounts.then(accountsTable), derivatives.then((d) => derivativesTable(d, summary.as_of)),
      instructionsPanel(base, accounts, derivatives), payeesTable(base), transactions,
    ]);
  } catch (error) {
    showError(error);
  }
}

function customerNotFound(oid) {
  const sandbox = chosenSandbox();
  document.getElementById("customer-content").hidden = true;
  document.getElementById("as-of-line").hidden = true;
  document.getElementById("customer-name").textContent = "No such customer";
  document.title = "No such customer · Dummy Bank explorer";
  document.getElementById("not-found-text").textContent =
    `No customer has the CustomerOID ${oid} in ${sandbox ? `the sandbox ${sandbox}` : "this bank"}: ` +
    "it was never registered, or it was deleted.";
  document.getElementById("not-found").hidden = false;
}

// Label and value pairs of a description list, skipping what the API left empty.
function describe(list, pairs) {
  list.replaceChildren(...pairs.filter(([, value]) => value !== null && value !== undefined && value !== "")
    .flatMap(([label, value]) => [element("dt", "", label), element("dd", "", value)]));
}

async function profilePanel(base) {
  const { data: p } = await api(withCurrency(`${base}/profile`));
  describe(document.getElementById("profile"), [
    ["Kind", p.kind],
    [p.kind === "company" ? "Founded" : "Born", p.kind === "company" ? p.founded_on :
      p.date_of_birth && `${p.date_of_birth} (age ${p.age})`],
    ["Email", p.email], ["Phone", p.phone],
    ["Risk tolerance", p.risk_tolerance && words(p.risk_tolerance)],
    ["Experience", p.investment_experience && words(p.investment_experience)],
    ["Goals", p.investment_goals.map(words).join(", ")],
    ["Horizon", p.time_horizon && words(p.time_horizon)],
    ["Style", p.portfolio_style && words(p.portfolio_style)],
    ["ESG investing", p.esg_investing === null ? null : p.esg_investing ? "yes" : "no"],
    ["Contact by", p.communication_method && words(p.communication_method)],
    ["Income, last 12 months", `${money(p.annual_income, p.base_currency)} (${p.income_from} to ${p.income_to})`],
    ["Net worth", money(p.net_worth, p.base_currency)],
  ]);
}

// A headline figure: the number large, its currency small beside it, a note below.
function figureCard(label, value, { unit = "", note = "", tone = "" } = {}) {
  const card = element("div", "card");
  const figure = element("div", `figure ${tone}`, value);
  if (unit && value !== "—") figure.append(" ", element("span", "unit", unit));
  card.append(element("div", "label", label), figure);
  if (note) card.append(element("div", "note", note));
  return card;
}

function amount(value) {
  return value === null || value === undefined ? "—" : twoDecimals.format(value);
}

function toneOf(value) {
  return value > 0 ? "gain" : value < 0 ? "loss" : "";
}

async function riskPanel(base) {
  const { data: r } = await api(withCurrency(`${base}/risk`));
  const w = r.window;
  document.getElementById("risk-window").textContent =
    w ? `${w.start_date} to ${w.end_date}, ${w.observations} trading days (${w.calendar})` : "";
  const reason = document.getElementById("risk-reason");
  reason.hidden = !r.reason;
  reason.textContent = r.reason || "";
  // With nothing invested the statistics are null: the reason says it all.
  document.getElementById("risk-content").hidden = Boolean(r.reason);
  if (r.reason) return;
  const var95 = r.value_at_risk.find((v) => v.confidence_percent === 95 && v.horizon_days === 1);
  const d = r.drawdown;
  const worst = r.stress_tests.find((s) => s.name === r.worst_scenario);
  const ratio = (value) => (value === null ? "—" : String(value));
  document.getElementById("risk-figures").replaceChildren(
    figureCard("Value at risk, 95%, 1 day", var95 ? amount(var95.historical_var) : "—", {
      unit: CURRENCY, tone: "loss",
      note: var95 ? `historical; ${percent(var95.historical_var_percent)} of holdings` : "" }),
    figureCard("Maximum drawdown", d.max_drawdown_percent === null ? "—" : percent(d.max_drawdown_percent), {
      tone: "loss",
      note: d.peak_date ? `peak ${d.peak_date}, trough ${d.trough_date}; ` +
        (d.recovery_date ? `recovered ${d.recovery_date}` : "not recovered") : "" }),
    figureCard("Volatility, annualized", r.volatility_percent === null ? "—" : percent(r.volatility_percent), {
      note: r.risk_category ? `risk ${r.risk_category}, ${r.risk_score} of 10` : "" }),
    figureCard(`Beta to ${r.benchmark}`, r.beta === null ? "—" : quantity(r.beta), {
      note: `Sharpe ${ratio(r.sharpe_ratio)}, Sortino ${ratio(r.sortino_ratio)}` }),
    figureCard("Worst stress scenario", worst ? amount(worst.pnl) : "—", {
      unit: CURRENCY, tone: worst ? toneOf(worst.pnl) : "",
      note: worst ? `${worst.title} (${percent(worst.pnl_percent, true)})` : "" }),
  );
  fillTable("value-at-risk", r.value_at_risk.map((v) => [
    cell(`${v.confidence_percent}%`), cell(`${v.horizon_days} day${v.horizon_days === 1 ? "" : "s"}`),
    cell(money(v.historical_var), signClass(v.historical_var)),
    cell(money(v.historical_expected_shortfall), signClass(v.historical_expected_shortfall)),
    cell(money(v.parametric_var), signClass(v.parametric_var)),
    cell(money(v.parametric_expected_shortfall), signClass(v.parametric_expected_shortfall)),
  ]), "Nothing invested: no value at risk.");
  const scenarios = r.stress_tests;
  chart("chart-stress", {
    type: "bar",
    data: {
      labels: scenarios.map((s) => s.title),
      datasets: [{ data: scenarios.map((s) => s.pnl),
        backgroundColor: scenarios.map((s) => (s.pnl < 0 ? "#c62828" : "#1a7f37")) }],
    },
    options: {
      indexAxis: "y",
      scales: { x: moneyAxis(6) },
      plugins: { legend: { display: false },
        tooltip: { callbacks: { label: (c) => ` ${money(c.raw, CURRENCY)} (${percent(scenarios[c.dataIndex].pnl_percent, true)})` } } },
    },
  });
  const positions = r.options ? r.options.positions : [];
  fillTable("greeks", positions.map((o) => [
    cell(o.underlying_symbol, "mono"), cell(o.option_type), cell(o.side), cell(quantity(o.contracts), "num"),
    cell(price(o.strike), "num"), cell(o.expiry_date), cell(quantity(o.delta), signClass(o.delta)),
    cell(quantity(o.gamma), signClass(o.gamma)), cell(money(o.vega), signClass(o.vega)),
    cell(money(o.theta), signClass(o.theta)), cell(money(o.delta_exposure), signClass(o.delta_exposure)),
  ]), "No open options.");
}

function totalsCards(summary) {
  const t = summary.totals;
  const year = summary.performance.periods.find((p) => p.period === "1y");
  const inBase = { unit: CURRENCY };
  document.getElementById("totals").replaceChildren(
    figureCard("Net worth", amount(t.net_worth), inBase),
    figureCard("Cash", amount(t.cash), inBase),
    figureCard("Invested", amount(t.invested), inBase),
    figureCard("Unrealized gain", amount(t.unrealized_gain), {
      unit: CURRENCY, tone: toneOf(t.unrealized_gain), note: percent(t.unrealized_gain_percent, true) }),
    figureCard("Holdings, 1 year", year ? percent(year.return_percent, true) : "—",
      { tone: year ? toneOf(year.return_percent) : "" }),
    figureCard("Spending, average month", amount(summary.spending.average_month), inBase),
  );
}

function holdingsTable(holdings) {
  fillTable("holdings", holdings.map((h) => [
    cell(h.symbol, "mono"), cell(h.name), cell(words(h.asset_type)),
    cell(quantity(h.quantity), "num"), cell(price(h.average_cost, h.currency), "num"),
    cell(price(h.current_price, h.currency), "num"), cell(money(h.market_value, h.currency), "num"),
    cell(money(h.market_value_base), "num"), cell(money(h.unrealized_gain), signClass(h.unrealized_gain)),
    cell(percent(h.unrealized_gain_percent, true), signClass(h.unrealized_gain_percent)),
    cell(percent(h.weight_percent), "num"),
  ]), "No holdings.");
}

async function holdingsValue(base) {
  const { data } = await api(withCurrency(`${PREFIX}/data${base}/holdings-value`));
  chart("chart-holdings-value", {
    type: "line",
    data: {
      labels: data.points.map((p) => p.date),
      datasets: [{ label: `Holdings (${CURRENCY})`, data: data.points.map((p) => p.value),
        borderColor: PALETTE[0], backgroundColor: "rgba(31,119,180,0.12)", fill: true,
        pointRadius: 0, borderWidth: 2 }],
    },
    options: {
      scales: { y: moneyAxis(), x: dateAxis(7) },
      plugins: { legend: { display: false },
        tooltip: { callbacks: { label: (c) => ` ${money(c.raw, CURRENCY)}` } } },
    },
  });
}

async function spendingChart(base, months) {
  // The API groups by month or by category; one call per month gives both at once.
  const answers = await Promise.all(months.map((m) => api(withCurrency(
    `${base}/spending?group_by=category&from_month=${m.month}&to_month=${m.month}`))));
  const categories = [...new Set(answers.flatMap(({ data }) => data.groups.map((g) => g.key)))].sort();
  chart("chart-spending", {
    type: "bar",
    data: {
      labels: months.map((m) => m.month),
      datasets: categories.map((category, i) => ({
        label: words(category),
        backgroundColor: PALETTE[i % PALETTE.length],
        data: answers.map(({ data }) => (data.groups.find((g) => g.key === category) || { total: 0 }).total),
      })),
    },
    options: {
      scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, moneyAxis()) },
      plugins: { tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${money(c.raw, CURRENCY)}` } } },
    },
  });
}

function accountsTable(data) {
  const baseByCurrency = Object.fromEntries(data.cash_by_currency.map((c) => [c.currency, c]));
  fillTable("accounts", data.bank_accounts.map((a) => {
    const share = baseByCurrency[a.currency];
    // Each account in the base currency at the rate its currency's total was converted at.
    const inBase = share && share.balance ? (a.balance * share.balance_base) / share.balance : null;
    return [
      cell(a.institution ? a.institution.name : "—"), cell(words(a.account_type)),
      cell(a.iban || a.account_number, "mono"), cell(money(a.balance, a.currency), "num"),
      cell(inBase === null ? "—" : money(inBase), "num"),
    ];
  }), "No accounts.");
}

function derivativesTable(positions, asOf) {
  const today = Date.parse(asOf);
  fillTable("derivatives", positions.map((d) => {
    const days = d.status === "open" ? Math.round((Date.parse(d.expiry_date) - today) / 86400000) : null;
    const instrument = d.instrument_type === "option" ? `${d.option_type} option` : words(d.instrument_type);
    return [
      cell(d.underlying_symbol, "mono"), cell(instrument), cell(d.side), cell(words(d.strategy || "—")),
      cell(quantity(d.contracts), "num"), cell(price(d.strike, d.currency), "num"),
      cell(price(d.premium, d.currency), "num"), cell(d.trade_date), cell(d.expiry_date),
      cell(days === null ? "—" : String(days), days !== null && days <= 30 ? "num soon" : "num"),
      cell(d.status),
    ];
  }), "No derivative positions.");
}

function transactionsSection(base) {
  const form = document.getElementById("transaction-filters");
  const next = document.getElementById("transactions-next");
  const first = document.getElementById("transactions-first");
  let cursor = null;
  let shown = 0;

  function query(withCursor) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim() !== "") params.set(name, String(value).trim());
    }
    if (withCursor) params.set("cursor", withCursor);
    return `${base}/transactions?${params}`;
  }

  async function load(withCursor) {
    clearError();
    try {
      const { data } = await api(query(withCursor));
      const startAt = withCursor ? shown + 1 : 1;
      shown = startAt - 1 + data.transactions.length;
      fillTable("transactions", data.transactions.map((t) => ({
        className: t.instruction_id ? "from-instruction" : "",
        cells: [
          cell(t.transaction_date, "nowrap"), cell(words(t.transaction_type)), descriptionCell(t),
          cell(t.category ? words(t.category) : ""), cell(t.symbol || "", "mono"),
          cell(t.quantity === null ? "" : quantity(t.quantity), "num"),
          cell(t.price === null ? "" : price(t.price), "num"),
          cell(money(t.amount, t.currency), signClass(t.amount)),
        ],
      })), "No transaction matches these filters.");
      cursor = data.next_cursor;
      next.disabled = !cursor;
      first.disabled = !withCursor;
      document.getElementById("transactions-page").textContent = data.transactions.length
        ? `${startAt}–${shown} of ${data.total.toLocaleString("en-US")}` : `0 of ${data.total}`;
    } catch (error) {
      showError(error);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(null); });
  next.addEventListener("click", () => cursor && load(cursor));
  first.addEventListener("click", () => load(null));
  return load(null);
}

// A statement row booked by an instruction links to it in the Instructions panel.
function descriptionCell(transaction) {
  const td = cell(transaction.description || "");
  if (transaction.instruction_id) {
    const link = element("a", "tag", `instruction #${transaction.instruction_id}`);
    link.href = `#instruction-${transaction.instruction_id}`;
    link.title = "Booked by this instruction";
    td.append(" ", link);
  }
  return td;
}

// ---- the customer's instructions and payees ----

function accountName(accounts, id) {
  const account = accounts.get(id);
  return account ? `${words(account.account_type)} ..${account.account_number.slice(-4)}` : `account ${id}`;
}

function payeeAccount(payee) {
  if (payee.iban) return `IBAN ${payee.iban}`;
  return `account ..${String(payee.account_number).slice(-4)}, routing ${payee.routing_number}`;
}

// One line a person reads, e.g. "Transfer 500.00 EUR from savings ..0002 to checking ..0001".
function describeInstruction(instruction, accounts, positions) {
  const d = instruction.details;
  const account = (id) => accountName(accounts, id);
  const memo = d.reference ? ` (“${d.reference}”)` : "";
  if (instruction.kind === "transfer") {
    return `Transfer ${money(Number(d.amount), d.currency)} from ${account(d.from_account_id)} ` +
      `to ${account(d.to_account_id)}${memo}`;
  }
  if (instruction.kind === "payment") {
    const when = instruction.execute_on === instruction.booked_on ? "" : ` on ${instruction.execute_on}`;
    return `Pay ${money(Number(d.amount), d.currency)} to ${d.payee.name} (${payeeAccount(d.payee)}) ` +
      `from ${account(d.from_account_id)}${when}${memo}`;
  }
  if (d.side === "close") {
    const p = positions.get(d.derivative_id);
    const what = p && p.instrument_type === "option"
      ? `the ${p.position} ${p.underlying_symbol} ${p.option_type} (${p.contracts} contracts, strike ` +
        `${price(p.strike, p.currency)}, expiring ${p.expiry_date})`
      : `position #${d.derivative_id}`;
    return `Close ${what} in ${account(d.account_id)}`;
  }
  const fill = instruction.effects.fill;
  const size = d.amount === null
    ? `${quantity(Number(d.quantity))} ${d.symbol}`
    : `${d.symbol} for ${money(Number(d.amount), fill ? fill.currency : "")}`;
  return `${d.side === "buy" ? "Buy" : "Sell"} ${size} ${d.side === "buy" ? "into" : "from"} ${account(d.account_id)}`;
}

function instructionFacts(effects, accounts) {
  const facts = [];
  const account = (id) => accountName(accounts, id);
  if (effects.fill) {
    const f = effects.fill;
    facts.push(["Fill", `${quantity(f.quantity)} ${f.symbol} at ${price(f.price, f.currency)} ` +
      `(close ${price(f.close)}), ${money(f.gross, f.currency)}; commission ${money(f.commission, f.currency)}`]);
  }
  if (effects.position) {
    const p = effects.position;
    facts.push(["Closed", `${quantity(p.units)} units at ${price(p.price, p.currency)} ` +
      `(model value ${quantity(p.model_value)} ${p.currency}); commission ${money(p.commission, p.currency)}`]);
  }
  if (effects.conversion) {
    const c = effects.conversion;
    facts.push(["Conversion", `${money(c.sent, c.from_currency)} → ${money(c.received, c.to_currency)} ` +
      `at ${c.rate} (mid rate ${c.mid_rate} less ${percent(c.margin * 100)})`]);
  }
  if (effects.balances.length) {
    facts.push(["Balances after", effects.balances
      .map((b) => `${account(b.account_id)} ${money(b.balance, b.currency)}`).join(" · ")]);
  }
  if (effects.holdings.length) {
    facts.push(["Holdings", effects.holdings
      .map((h) => `${h.symbol} ${quantity(h.quantity_before)} → ${quantity(h.quantity_after)}`).join(" · ")]);
  }
  if (effects.bank_income.length) {
    facts.push(["Bank income", effects.bank_income
      .map((i) => `${words(i.kind)} ${money(i.amount, i.currency)}`).join(" · ")]);
  }
  return facts;
}

// Each instruction is a line that opens on its effects; the newest are open to begin with.
const INSTRUCTIONS_OPEN = 5;

function instructionCard(instruction, accounts, positions) {
  const card = element("details", "instruction");
  card.id = `instruction-${instruction.instruction_id}`;
  const head = element("summary");
  head.append(
    element("span", "badge", instruction.kind),
    element("span", `badge status-${instruction.status}`, instruction.status),
    element("span", "muted", instruction.booked_on),
    element("span", "what", describeInstruction(instruction, accounts, positions)),
    element("span", "muted mono", `#${instruction.instruction_id}`),
  );
  card.append(head);
  const effects = instruction.effects;
  if (effects.transactions.length === 0) {
    card.append(element("p", "muted small", instruction.status === "scheduled"
      ? `Scheduled for ${instruction.execute_on}: nothing is booked until then.`
      : "Cancelled before it ran: nothing was booked."));
    return card;
  }
  const booked = element("table", "data booked");
  const columns = element("tr");
  columns.append(element("th", "", "Booked on the statement"), element("th", "", "Account"),
    element("th", "num", "Amount"));
  const rows = element("tbody");
  for (const row of effects.transactions) {
    const tr = element("tr");
    tr.append(cell(row.description), cell(accountName(accounts, row.account_id)),
      cell(money(row.amount, row.currency), signClass(row.amount)));
    rows.append(tr);
  }
  booked.append(element("thead"), rows);
  booked.tHead.append(columns);
  const facts = element("dl", "facts");
  for (const [label, text] of instructionFacts(effects, accounts)) {
    facts.append(element("dt", "", label), element("dd", "", text));
  }
  card.append(booked, facts);
  return card;
}

async function instructionsPanel(base, accountsRead, positionsRead) {
  const [{ data }, accountsData, positionsData] = await Promise.all([
    api(`${base}/instructions`), accountsRead, positionsRead,
  ]);
  const accounts = new Map(accountsData.bank_accounts.map((a) => [a.id, a]));
  const positions = new Map(positionsData.map((p) => [p.id, p]));
  const panel = document.getElementById("instructions");
  document.getElementById("instructions-count").textContent =
    data.total ? `${data.total} in all` : "";
  if (data.instructions.length === 0) {
    panel.replaceChildren(element("p", "muted empty",
      "No instructions yet: transfers, payments and orders given through the API or MCP appear here."));
    return;
  }
  const cards = data.instructions.map((i) => instructionCard(i, accounts, positions));
  cards.slice(0, INSTRUCTIONS_OPEN).forEach((card) => { card.open = true; });
  panel.replaceChildren(...cards);
  // Following a statement row's link (or arriving with one) opens the instruction it names.
  const openTarget = () => {
    const target = location.hash.startsWith("#instruction-") && document.getElementById(location.hash.slice(1));
    if (target) {
      target.open = true;
      target.scrollIntoView();
    }
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();
}

async function payeesTable(base) {
  const { data } = await api(`${base}/payees`);
  fillTable("payees", data.payees.map((p) => [
    cell(p.name), cell(p.category ? words(p.category) : ""),
    cell(p.iban ? p.iban : `${p.account_number} · routing ${p.routing_number}`, "mono"),
    cell(p.last_paid_on), cell(money(p.last_amount, p.currency), "num"), cell(String(p.payments), "num"),
  ]), "No payees yet.");
}

// ---- the market page ----

async function marketPage() {
  try {
    const { data } = await api("/market-data");
    document.getElementById("market-as-of").textContent = `as of ${data.as_of}`;
    fillTable("quotes", data.quotes.map((q) => [
      cell(q.symbol, "mono"), cell(q.name), cell(words(q.asset_type)), cell(price(q.price, q.currency), "num"),
      ...[q.change_1d, q.change_30d, q.change_1y].map((c) =>
        cell(c ? percent(c.change_percent, true) : "—", signClass(c ? c.change_percent : 0))),
    ]), "No instruments.");
    const grid = document.getElementById("histories");
    await Promise.all(data.quotes.map(async (q, i) => {
      const figure = document.createElement("figure");
      figure.className = "chart small";
      const caption = document.createElement("figcaption");
      caption.textContent = `${q.symbol} · ${q.name} (${q.currency})`;
      const plot = document.createElement("div");
      plot.className = "plot";
      const canvas = document.createElement("canvas");
      canvas.id = `history-${q.symbol}`;
      plot.append(canvas);
      figure.append(caption, plot);
      grid.append(figure);
      const { data: history } = await api(`/market-data/${encodeURIComponent(q.symbol)}/history`);
      chart(canvas.id, {
        type: "line",
        data: {
          labels: history.closes.map((c) => c.date),
          datasets: [{ data: history.closes.map((c) => c.close), borderColor: PALETTE[i % PALETTE.length],
            pointRadius: 0, borderWidth: 1.5 }],
        },
        options: {
          scales: { x: dateAxis(4), y: { ticks: { maxTicksLimit: 5 } } },
          plugins: { legend: { display: false },
            tooltip: { callbacks: { label: (c) => ` ${price(c.raw, q.currency)}` } } },
        },
      });
    }));
  } catch (error) {
    showError(error);
  }
}

// ---- sandboxes: the header's selector, the list and a sandbox's page ----

// An instant of the API (ISO 8601, UTC) as a person reads it: "2026-11-26 04:00:01 UTC".
function moment(iso) {
  return iso ? `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} UTC` : "—";
}

// The trace names a fault "<rule number> <pattern>", numbered from 0 as the rules are listed.
function faultName(fault) {
  const match = /^(\d+) (.*)$/.exec(fault || "");
  return match ? `rule ${match[1]}: ${match[2]}` : fault || "";
}

function chooseSandbox(sandboxId) {
  if (sandboxId) sessionStorage.setItem(SANDBOX_STORAGE, sandboxId);
  else sessionStorage.removeItem(SANDBOX_STORAGE);
}

// The sandboxes, or null when this key may not list them (a read key, a sandbox key).
async function listSandboxes() {
  try {
    return (await api("/sandboxes")).data;
  } catch (error) {
    if (error.status === 403) return null;
    throw error;
  }
}

async function sandboxSelector() {
  const select = document.getElementById("sandbox");
  const keyOfSandbox = () => sandboxOfKey(sessionStorage.getItem(KEY_STORAGE));
  // Listing may ask for the key; the key given may be a sandbox's own.
  const sandboxes = keyOfSandbox() ? null : await listSandboxes();
  const keyed = keyOfSandbox();
  if (keyed) {
    // A sandbox key reaches its own sandbox and nothing else.
    chooseSandbox(keyed);
    select.replaceChildren(new Option(`${keyed}, by its key`, keyed, true, true));
    select.disabled = true;
    return;
  }
  const chosen = chosenSandbox();
  if (sandboxes === null) {
    select.title = "Listing sandboxes needs the full API key";
    if (chosen) select.append(new Option(chosen, chosen, true, true));
    select.disabled = !chosen;
  } else {
    for (const sandbox of sandboxes) {
      const name = sandbox.label ? `${sandbox.label} (${sandbox.sandbox_id})` : sandbox.sandbox_id;
      select.append(new Option(name, sandbox.sandbox_id, false, sandbox.sandbox_id === chosen));
    }
    if (chosen && !sandboxes.some((s) => s.sandbox_id === chosen)) {
      // Expired or deleted since it was chosen: the pages read the shared bank again.
      chooseSandbox("");
      const notice = document.getElementById("notice");
      notice.textContent = `The sandbox ${chosen} is gone (expired or deleted): these pages show the shared bank.`;
      notice.hidden = false;
    }
  }
  select.addEventListener("change", () => {
    chooseSandbox(select.value);
    location.reload();
  });
}

async function sandboxesPage() {
  try {
    const sandboxes = await listSandboxes();
    if (sandboxes === null) {
      const refused = document.getElementById("sandboxes-refused");
      refused.textContent = "This API key may not list sandboxes: that needs the full key.";
      refused.hidden = false;
      return;
    }
    fillTable("sandboxes", sandboxes.map((s) => {
      const link = element("a", "mono", s.sandbox_id);
      link.href = `${PREFIX}/sandboxes/${s.sandbox_id}?currency=${CURRENCY}`;
      const id = element("td");
      id.append(link);
      return [id, cell(s.label || "—"), cell(String(s.seed), "num"), cell(String(s.customers), "num"),
        cell(s.allow_writes ? "allowed" : "read only"), cell(moment(s.created_at), "nowrap"),
        cell(moment(s.reset_at), "nowrap"), cell(moment(s.expires_at), "nowrap")];
    }), "No sandbox is live: create one with POST /sandboxes.");
  } catch (error) {
    showError(error);
  }
}

async function sandboxPage() {
  const sandboxId = body.dataset.sandboxId;
  const base = `/sandboxes/${sandboxId}`;
  const said = document.getElementById("sandbox-said");
  const faults = faultsSection(base);
  const trace = traceSection(base);

  async function settings() {
    const { data: s } = await api(base);
    document.getElementById("sandbox-label").textContent = s.label ? `“${s.label}”` : "";
    document.title = `Sandbox ${s.label || s.sandbox_id} · Dummy Bank explorer`;
    describe(document.getElementById("settings"), [
      ["Label", s.label || "—"], ["Seed", String(s.seed)],
      ["Customers", `the five samples and ${s.customers} synthetic`],
      ["Writes", s.allow_writes ? "allowed: instructions and MCP write tools" : "refused (read only)"],
      ["Created", moment(s.created_at)], ["Last reset", moment(s.reset_at)], ["Expires", moment(s.expires_at)],
    ]);
  }

  const use = document.getElementById("sandbox-use");
  const using = () => { use.disabled = chosenSandbox() === sandboxId; };
  use.addEventListener("click", () => { chooseSandbox(sandboxId); location.reload(); });
  using();
  document.getElementById("sandbox-reset").addEventListener("click", async () => {
    if (!window.confirm(`Reset ${sandboxId}? Every write made in it and its trace are gone.`)) return;
    clearError();
    try {
      await api(`${base}/reset`, { method: "POST" });
      said.textContent = "Reset: the sandbox is as it was created.";
      await Promise.all([settings(), faults.load(), trace.load()]);
    } catch (error) {
      showError(error);
    }
  });
  try {
    await settings();
    await Promise.all([faults.load(), trace.load()]);
  } catch (error) {
    if (error.status === 404) {
      document.getElementById("sandbox-content").hidden = true;
      document.getElementById("not-found-text").textContent =
        `No live sandbox has the id ${sandboxId}: it expired, was deleted or never was.`;
      document.getElementById("not-found").hidden = false;
      document.title = "No such sandbox · Dummy Bank explorer";
      return;
    }
    showError(error);
  }
}

function faultsSection(base) {
  const form = document.getElementById("fault-form");
  let plan = { seed: 0, rules: [] };

  async function load() {
    const { data } = await api(`${base}/faults`);
    show(data);
  }

  function show(data) {
    plan = data;
    document.getElementById("faults-seed").textContent = `seed ${data.seed}`;
    fillTable("faults", data.rules.map((r, index) => [
      cell(String(index), "num"), cell(r.match, "mono"), cell(percent(r.rate * 100), "num"), cell(r.status === null ? "delay only" : String(r.status), "num"),
      cell(`${r.delay_ms} ms`, "num"), cell(r.status === 429 || r.status === 503 ? `${r.retry_after_s} s` : "—", "num"),
      cell(String(r.fired), r.fired ? "num loss" : "num"),
    ]), "No fault rules: every call is answered as in the shared bank.");
  }

  async function put(rules) {
    clearError();
    try {
      show((await api(`${base}/faults`, { method: "PUT", json: { seed: plan.seed, rules } })).data);
    } catch (error) {
      showError(error);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const given = new FormData(form);
    const rule = {
      match: String(given.get("match")).trim(), rate: Number(given.get("rate")),
      status: given.get("status") ? Number(given.get("status")) : null,
      delay_ms: Number(given.get("delay_ms") || 0), retry_after_s: Number(given.get("retry_after_s") || 0),
    };
    const kept = plan.rules.map(({ fired, ...r }) => r);
    put([...kept, rule]);
  });
  document.getElementById("faults-clear").addEventListener("click", async () => {
    clearError();
    try {
      show((await api(`${base}/faults`, { method: "DELETE" })).data);
    } catch (error) {
      showError(error);
    }
  });
  return { load };
}

const TRACE_PAGE = 1000;

// The trace route pages forward by number and has no filters; the trace is at most 10,000
// calls, so it is read whole, then filtered and paged here.
function traceSection(base) {
  const form = document.getElementById("trace-filters");
  const buttons = Object.fromEntries(["first", "previous", "next"].map(
    (name) => [name, document.getElementById(`trace-${name}`)]));
  let calls = [];
  let shown = [];
  let start = 0;

  async function load() {
    const read = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: String(TRACE_PAGE) });
      if (cursor) query.set("cursor", cursor);
      const { data } = await api(`${base}/requests?${query}`);
      read.push(...data.requests);
      cursor = data.next_cursor;
    } while (cursor);
    calls = read;
    filter();
  }

  function perPage() {
    return Number(new FormData(form).get("limit"));
  }

  function filter() {
    const given = new FormData(form);
    const text = String(given.get("text")).trim().toLowerCase();
    const kind = given.get("kind");
    const status = given.get("status");
    const fault = given.get("fault");
    shown = calls.filter((c) => (!text || callName(c).toLowerCase().includes(text))
      && (!kind || (kind === "mcp") === (c.mcp_method !== null))
      && (!status || String(c.status || "").startsWith(status))
      && (!fault || (fault === "yes") === (c.fault !== null)));
    // Newest first: what an agent just did is what a person watching looks for.
    shown.reverse();
    document.getElementById("trace-count").textContent =
      `${calls.length.toLocaleString("en-US")} call${calls.length === 1 ? "" : "s"}`;
    page(0);
  }

  function page(at) {
    const size = perPage();
    start = at;
    const rows = shown.slice(start, start + size);
    fillTable("trace", rows.map((c) => ({
      className: c.fault ? "faulted" : "",
      cells: [
        cell(String(c.number), "num"), cell(moment(c.called_at), "nowrap"), cell(callName(c), "mono"),
        cell(c.arguments ? JSON.stringify(c.arguments) : "", "mono small args"),
        cell(c.status === null ? "running" : String(c.status), c.status >= 400 ? "num loss" : "num"),
        cell(c.result_status || ""), cell(c.latency_ms === null ? "—" : `${twoDecimals.format(c.latency_ms)} ms`, "num"),
        cell(faultName(c.fault), c.fault ? "loss" : ""),
      ],
    })), calls.length ? "No call matches these filters." : "No calls yet.");
    buttons.first.disabled = start === 0;
    buttons.previous.disabled = start === 0;
    buttons.next.disabled = start + size >= shown.length;
    document.getElementById("trace-page").textContent = rows.length
      ? `${start + 1}–${start + rows.length} of ${shown.length.toLocaleString("en-US")}` : `0 of ${shown.length}`;
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); filter(); });
  buttons.first.addEventListener("click", () => page(0));
  buttons.previous.addEventListener("click", () => page(Math.max(0, start - perPage())));
  buttons.next.addEventListener("click", () => page(start + perPage()));
  document.getElementById("trace-refresh").addEventListener("click", async () => {
    clearError();
    try { await load(); } catch (error) { showError(error); }
  });
  return { load };
}

// What a call was, as a person names it: the MCP tool or method, or the HTTP method and path.
function callName(call) {
  if (call.tool) return `mcp ${call.tool}`;
  if (call.mcp_method) return `mcp ${call.mcp_method}`;
  return `${call.method} ${call.path}`;
}

// ---- start ----

function start() {
  showForgetKey();
  document.getElementById("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    location.reload();
  });
  document.getElementById("currency").addEventListener("change", (event) => {
    const url = new URL(location.href);
    url.searchParams.set("currency", event.target.value);
    location.href = url.toString();
  });
  const pages = {
    customers: customersPage, customer: customerPage, market: marketPage,
    sandboxes: sandboxesPage, sandbox: sandboxPage,
  };
  const page = pages[body.dataset.page] || (async () => {});
  // The bank to read is settled before the page reads it.
  const ready = sandboxSelector().catch(showError).then(page);
  // Tests and screenshots wait for this: every first read has landed (or failed, visibly).
  ready.finally(() => { body.dataset.state = "ready"; });
}

start();
