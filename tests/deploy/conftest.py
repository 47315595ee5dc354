"""The deploy tests use the virtual radios of tests/radio (two radios that hear each other)."""

from tests.radio.conftest import pair_radios, pair_scenario

__all__ = ["pair_radios", "pair_scenario"]
