"""The engine's ledger: every call, queue attempt, seat interval and AMI outage, in SQL."""
