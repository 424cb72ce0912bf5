"""Fixtures for the page tests; the helpers live in page_helpers.py."""

from fakes import toy_models  # noqa: F401  (fixture)
from page_helpers import (  # noqa: F401  (fixtures)
    only_composition_models,
    with_structure_model,
)
