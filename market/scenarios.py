"""Stress scenarios: historical crises replayed as shocks to the market model's factors.

Each scenario moves the common factors of ``market.model.FACTORS`` by roughly what the
real ones did from peak to trough (the S&P 500, the Nasdaq, the Euro Stoxx, Bitcoin,
gold, the 10-year Treasury yield, investment-grade spreads, the dollar index), split
between the broad factor and the sector ones so that each instrument's loadings give a
plausible move. The shocks are:

- equity, crypto and gold factors (``us_equity``, ``tech``, ``health``, ``consumer``,
  ``europe``, ``crypto``, ``gold``): a return, -0.50 being a fall of 50%;
- ``rates_level``: a change in every Treasury yield, 0.01 being 100 basis points;
  ``rates_slope``: the change in the 12-year yield less the 2-year one (the model moves a
  bond of tenor T by level + (T - 7) / 5 x slope); ``credit``: a change in corporate
  spreads over Treasuries;
- ``usd``: the dollar against every other currency, 0.10 being a dollar 10% stronger.

A factor a scenario does not name does not move.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    period: str
    """The real episode's dates, peak to trough."""
    shocks: tuple[tuple[str, float], ...]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "market_crash_2008", "Global financial crisis", "2007-10-09 to 2009-03-09",
        (("us_equity", -0.50), ("consumer", -0.10), ("health", 0.08), ("europe", -0.12),
         ("gold", 0.05), ("rates_level", -0.015), ("rates_slope", 0.010),
         ("credit", 0.035), ("usd", 0.12)),
    ),
    Scenario(
        "covid_crash_2020", "Pandemic crash", "2020-02-19 to 2020-03-23",
        (("us_equity", -0.34), ("tech", 0.05), ("health", 0.04), ("consumer", -0.05),
         ("europe", -0.06), ("crypto", -0.35), ("gold", -0.03), ("rates_level", -0.010),
         ("rates_slope", 0.004), ("credit", 0.020), ("usd", 0.04)),
    ),
    Scenario(
        "tech_bubble_2000", "Technology bubble bursts", "2000-03-24 to 2002-10-09",
        (("us_equity", -0.45), ("tech", -0.45), ("health", 0.15), ("consumer", 0.05),
         ("europe", -0.08), ("gold", 0.12), ("rates_level", -0.020), ("rates_slope", 0.015),
         ("credit", 0.010)),
    ),
    Scenario(
        "rate_shock_2022", "Inflation and rate shock", "2022-01-03 to 2022-10-12",
        (("us_equity", -0.23), ("tech", -0.15), ("health", 0.10), ("consumer", -0.10),
         ("europe", -0.05), ("crypto", -0.55), ("gold", -0.08), ("rates_level", 0.025),
         ("rates_slope", -0.010), ("credit", 0.010), ("usd", 0.15)),
    ),
    Scenario(
        "crypto_winter_2022", "Crypto winter", "2021-11-10 to 2022-11-21",
        (("us_equity", -0.12), ("tech", -0.08), ("crypto", -0.70), ("gold", -0.05),
         ("rates_level", 0.020), ("usd", 0.08)),
    ),
    Scenario(
        "euro_crisis_2011", "European sovereign debt crisis", "2011-04-29 to 2011-10-03",
        (("us_equity", -0.18), ("europe", -0.20), ("gold", 0.20), ("rates_level", -0.015),
         ("credit", 0.012), ("usd", 0.08)),
    ),
)  # fmt: skip
"""Every scenario the risk section runs, in this order."""
