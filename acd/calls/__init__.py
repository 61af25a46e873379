"""Calls as the engine follows them."""
