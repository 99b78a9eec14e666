"""Stored things: configuration, history, admin password, and the power-loss-safe files
(store.py) they are kept in."""
