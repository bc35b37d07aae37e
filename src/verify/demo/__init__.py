"""The demo tour and synthetic archives (tests and benchmarks use them)."""
