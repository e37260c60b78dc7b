"""The explorer: web pages over the API for a person in a browser, read-only but for a
sandbox page's own controls (reset, fault rules). ``pages`` serves them (before the key
check: they hold no data) and the holdings-value route its chart reads; ``templates/`` and
``static/`` are what the browser gets. Every figure on a page is read from the API by the
page's script.

Sits on the HTTP layer, the sandboxes (a sandbox id's shape) and the services; only
``main.py`` imports it.
"""
