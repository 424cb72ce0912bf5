"""What every page shares: the one cached model loader, the prediction metrics and the domain notice, table heights
and the handling of unexpected errors."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st
from pymatgen.core import Composition

from sc_core import domain, models, thresholds

LOG = logging.getLogger("sc_dashboard")
PLOT_CONFIG = {"displaylogo": False}
ROW_PX = 35  # st.dataframe's row (and header) height
MAX_TABLE_ROWS = 15  # a taller table scrolls


@st.cache_resource(show_spinner="Loading the model…")
def get_model(name: str) -> models.Model:
    """A trained model, loaded once per server process."""
    return models.load(name)


@st.cache_data(show_spinner=False, max_entries=256,
               hash_funcs={Composition: lambda c: sorted((str(e), a) for e, a in c.items())})
def domain_note(comp: Composition) -> tuple[bool, str]:
    """:func:`sc_core.domain.describe`, once per composition (a nearest-neighbour search of SuperCon)."""
    return domain.describe(comp)


def trained_models() -> list[str]:
    """The trained models' names; with none, a note on how to train them, and the page stops."""
    names = models.available()
    if not names:
        st.info("No trained model is installed yet: run `make train`.")
        st.stop()
    return names


def unexpected_error(message: str) -> None:
    """Log the exception being handled (with its traceback, for the operator), then show `message` to the user
    (never the traceback)."""
    LOG.exception(message)
    st.error(message)


def prediction_metrics(row: pd.Series, threshold: float, inside: bool) -> None:
    """P(superconductor) and Tc as two metrics side by side (wrapping on a narrow screen), the ± spread as the
    grey line under each value, so no value is cut short; then how P reads against the model's threshold."""
    with st.container(horizontal=True, gap="large"):
        st.metric("P(superconductor)", f"{row['p_sc']:.2f}", f"± {row['p_sc_std']:.2f}", delta_color="off",
                  delta_arrow="off", width="content",
                  help="Probability that the material superconducts at any temperature, ± the model's spread.")
        st.metric("Tc if superconducting", f"{row['tc_K']:.1f} K", f"± {row['tc_std_K']:.1f} K", delta_color="off",
                  delta_arrow="off", width="content",
                  help="Predicted critical temperature, assuming the material superconducts, ± the model's spread.")
    reading = thresholds.reading(row["p_sc"], threshold, inside)
    st.markdown(f"**{reading[0].upper() + reading[1:]}**",
                help="The decision threshold is chosen per model on leave-one-family-out folds of its training data "
                     "(best balanced accuracy on families held out of training; 0.5 for a model without such folds).")


def table_height(rows: int) -> int:
    """Pixel height of a st.dataframe of `rows` rows with no empty rows below them, up to MAX_TABLE_ROWS."""
    return ROW_PX * (min(rows, MAX_TABLE_ROWS) + 1) + 3
