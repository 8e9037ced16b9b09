"""Measurement: budgets, contention, Pi emulation, the load run and repeated runs."""
