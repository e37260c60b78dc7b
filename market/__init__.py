"""The world the bank's customers live in: the market model (instruments, daily closes, FX
rates, dividends and coupons, as a factor model from fixed seeds), the trading and banking
calendars, the institutions that hold accounts, and the merchants, employers and billers
customers pay.

Imports ``core/`` and the tables (``models.py``). Never imports the services, the analysis
or anything that serves requests.
"""
