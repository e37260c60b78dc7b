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
    // Accounts and positions are read once: their tables and the instructions both name them.
    const accounts = api(withCurrency(`${base}/accounts`)).then(({ data }) => data);
    const derivatives = api(`${base}/derivatives`).then(({ data }) => data.derivative_transactions);
    await Promise.all([
      holdingsValue(base), spendingChart(base, summary.spending.by_month),
      accounts.then(accountsTable), derivatives.then((d) => derivativesTable(d, summary.as_of)),
      instructionsPanel(base, accounts, derivatives), payeesTable(base), transactions,
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
