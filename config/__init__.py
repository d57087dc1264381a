"""The ground floor: settings, logging, redaction, metrics, tracing and the payload codec.

It imports nothing of the project, so every other layer may import it.
"""
