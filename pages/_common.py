"""What every page shares: the one cached model loader and the handling of unexpected errors."""

from __future__ import annotations

import logging

import streamlit as st

from sc_core import models

LOG = logging.getLogger("sc_dashboard")
PLOT_CONFIG = {"displaylogo": False}


@st.cache_resource(show_spinner="Loading the model…")
def get_model(name: str) -> models.Model:
    """A trained model, loaded once per server process."""
    return models.load(name)


def unexpected_error(message: str) -> None:
    """Log the exception being handled (with its traceback, for the operator), then show `message` to the user
    (never the traceback)."""
    LOG.exception(message)
    st.error(message)
