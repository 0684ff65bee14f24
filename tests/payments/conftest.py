"""Payments tests use the planning round from the plans tests."""

from tests.plans.conftest import plan_round  # noqa: F401  (a fixture)
