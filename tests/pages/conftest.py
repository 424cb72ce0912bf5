"""Fixtures for the page tests; the helpers live in page_helpers.py."""

from page_helpers import only_composition_models, with_structure_model  # noqa: F401  (fixtures)
