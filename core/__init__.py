"""The bank's vocabulary, below everything else: settings, domain errors, exact money,
customer and account identifiers, the rules of names and labels, and signed page cursors.

Imports nothing of the project. Everything may import it.
"""
