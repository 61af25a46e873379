"""Seats (座席): their state machine and the actions that change it."""
