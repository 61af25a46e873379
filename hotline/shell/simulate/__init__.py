"""Simulated callers and seats (SIPp) for tests, the demo and the load benchmarks."""
