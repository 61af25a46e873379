"""Asterisk 22 configuration rendered from one center description, and the rig that runs it."""
