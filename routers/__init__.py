"""The REST routes, one router per domain; ``main.py`` includes ``ROUTERS`` in this order."""

from routers import customers, market, portfolio, system

ROUTERS = (customers.router, portfolio.router, market.router, system.router)
