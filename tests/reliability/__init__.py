"""Reliability tests: fuzzed adapter input, log hygiene, delivery faults, poisoned documents."""
