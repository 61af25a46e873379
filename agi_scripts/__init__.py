"""Thin classic-AGI entry points (pyst2) that call into `ivr`."""
