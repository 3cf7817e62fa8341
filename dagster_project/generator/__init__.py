"""Seeded generator of the landing zone (see ``landing.py`` for the layout and the ground truth)."""

from dagster_project.generator.landing import GROUND_TRUTH, generate_landing_zone

__all__ = ["GROUND_TRUTH", "generate_landing_zone"]
