"""The bank's vocabulary, below everything else: settings, domain errors, exact money,
customer and account identifiers, and signed page cursors.

Imports nothing of the project. Everything may import it.
"""
