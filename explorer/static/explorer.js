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

async function api(path) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const response = await fetch(path, {
      headers: key ? { "X-API-Key": key, Accept: "application/json" } : { Accept: "application/json" },
    });
    if (response.status === 401) {
      await askForKey(Boolean(key));
      continue;
    }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail; } catch (_) { /* not JSON: keep the status */ }
      throw new Error(`${response.status}: ${detail}`);
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
  for (const cells of rows) {
    const tr = document.createElement("tr");
    tr.append(...cells);
    tbody.append(tr);
  }
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

function moneyAxis() {
  return { ticks: { callback: (v) => twoDecimals.format(v).replace(/\.00$/, "") } };
}

// ---- the customers page ----

function customersPage() {
  const limit = 20;
  const form = document.getElementById("search");
  const next = document.getElementById("customers-next");
  const first = document.getElementById("customers-first");
  let nextUrl = null;
  let pageNumber = 1;

  function firstUrl() {
    const name = document.getElementById("search-name").value.trim();
    const query = new URLSearchParams({ limit: String(limit) });
    if (name) query.set("name", name);
    return `/customers?${query}`;
  }

  async function load(url, number) {
    clearError();
    try {
      const { data, headers } = await api(url);
      pageNumber = number;
      fillTable("customers", data.map((c) => {
        const link = document.createElement("a");
        link.href = `${PREFIX}/customers/${encodeURIComponent(c.customer_oid)}?currency=${CURRENCY}`;
        link.textContent = c.name;
        const name = document.createElement("td");
        name.append(link);
        return [name, cell(c.customer_oid, "mono")];
      }), "No customer matches.");
      const total = Number(headers.get("X-Total-Count") || data.length);
      document.getElementById("customer-count").textContent =
        `${total.toLocaleString("en-US")} customer${total === 1 ? "" : "s"}`;
      const match = /<([^>]+)>;\s*rel="next"/.exec(headers.get("Link") || "");
      // The Link carries the server's own host name; the path and query are what matter here.
      nextUrl = match ? new URL(match[1], location.href).pathname + new URL(match[1], location.href).search : null;
      next.disabled = !nextUrl;
      first.disabled = number === 1;
      const start = (number - 1) * limit + 1;
      document.getElementById("customers-page").textContent =
        data.length ? `${start}–${start + data.length - 1} of ${total.toLocaleString("en-US")}` : "";
    } catch (error) {
      showError(error);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(firstUrl(), 1); });
  next.addEventListener("click", () => nextUrl && load(nextUrl, pageNumber + 1));
  first.addEventListener("click", () => load(firstUrl(), 1));
  return load(firstUrl(), 1);
}

// ---- the customer page ----

async function customerPage() {
  const oid = body.dataset.customerOid;
  const base = `/customer/${encodeURIComponent(oid)}`;
  const transactions = transactionsSection(base);
  try {
    const [{ data: exists }, { data: summary }] = await Promise.all([
      api(`${base}/exists`), api(withCurrency(`${base}/summary`)),
    ]);
    document.getElementById("customer-name").textContent = exists.name;
    document.title = `${exists.name} · Dummy Bank explorer`;
    document.getElementById("as-of").textContent = summary.as_of;
    totalsCards(summary);
    donut("chart-asset-type", summary.allocation.by_asset_type);
    donut("chart-currency", summary.allocation.by_currency);
    holdingsTable(summary.holdings);
    document.getElementById("performance").textContent = summary.performance.periods
      .map((p) => `${p.period} ${percent(p.return_percent, true)}`).join(" · ");
    await Promise.all([
      holdingsValue(base), spendingChart(base, summary.spending.by_month),
      accountsTable(base), derivativesTable(base, summary.as_of), transactions,
    ]);
  } catch (error) {
    showError(error);
  }
}

function totalsCards(summary) {
  const t = summary.totals;
  const year = summary.performance.periods.find((p) => p.period === "1y");
  const cards = [
    ["Net worth", money(t.net_worth, CURRENCY), ""],
    ["Cash", money(t.cash, CURRENCY), ""],
    ["Invested", money(t.invested, CURRENCY), ""],
    ["Unrealized gain", `${money(t.unrealized_gain, CURRENCY)} (${percent(t.unrealized_gain_percent, true)})`,
      t.unrealized_gain > 0 ? "gain" : t.unrealized_gain < 0 ? "loss" : ""],
    ["Holdings, 1 year", year ? percent(year.return_percent, true) : "—",
      year && year.return_percent > 0 ? "gain" : year && year.return_percent < 0 ? "loss" : ""],
    ["Spending, average month", money(summary.spending.average_month, CURRENCY), ""],
  ];
  const section = document.getElementById("totals");
  section.replaceChildren(...cards.map(([label, value, tone]) => {
    const card = document.createElement("div");
    card.className = "card";
    const title = document.createElement("div");
    title.className = "label";
    title.textContent = label;
    const figure = document.createElement("div");
    figure.className = `figure ${tone}`;
    figure.textContent = value;
    card.append(title, figure);
    return card;
  }));
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
      scales: { y: moneyAxis(), x: { ticks: { maxTicksLimit: 12 } } },
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

async function accountsTable(base) {
  const { data } = await api(withCurrency(`${base}/accounts`));
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

async function derivativesTable(base, asOf) {
  const { data } = await api(`${base}/derivatives`);
  const today = Date.parse(asOf);
  fillTable("derivatives", data.derivative_transactions.map((d) => {
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
      fillTable("transactions", data.transactions.map((t) => [
        cell(t.transaction_date), cell(words(t.transaction_type)), cell(t.description || ""),
        cell(t.category ? words(t.category) : ""), cell(t.symbol || "", "mono"),
        cell(t.quantity === null ? "" : quantity(t.quantity), "num"),
        cell(t.price === null ? "" : price(t.price), "num"),
        cell(money(t.amount, t.currency), signClass(t.amount)),
      ]), "No transaction matches these filters.");
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
          scales: { x: { ticks: { maxTicksLimit: 4 } }, y: { ticks: { maxTicksLimit: 5 } } },
          plugins: { legend: { display: false },
            tooltip: { callbacks: { label: (c) => ` ${price(c.raw, q.currency)}` } } },
        },
      });
    }));
  } catch (error) {
    showError(error);
  }
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
  const pages = { customers: customersPage, customer: customerPage, market: marketPage };
  const page = pages[body.dataset.page] || (async () => {});
  // Tests and screenshots wait for this: every first read has landed (or failed, visibly).
  Promise.resolve(page()).finally(() => { body.dataset.state = "ready"; });
}

start();
