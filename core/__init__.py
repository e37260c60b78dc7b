"""The bank's vocabulary, below everything else: settings, domain errors, exact money,
customer and account identifiers, the rules of names and labels, signed page cursors, and
counts written in English.

Imports nothing of the project. Everything may import it.
"""
