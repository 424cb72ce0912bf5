"""Superconductor discovery: the Streamlit dashboard (``streamlit run app.py``).

The pages only call :mod:`sc_core` and render its results; all science lives in the package.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from pymatgen.core import Structure

from sc_core import InputError, data, io, models, thresholds
from sc_core.chemistry import display_formula
from views._common import domain_note, get_model, prediction_metrics, unexpected_error

TITLE = "Superconductor discovery"

# a local image: a :material: page icon is fetched from Google's font servers by every browser (offline: a failed
# request on every page)
FAVICON = Path(__file__).resolve().parent / "sc_core" / "static" / "favicon.png"
st.set_page_config(page_title=TITLE, page_icon=str(FAVICON), layout="wide")  # before st.navigation sets an icon


def read_text(text: str):
    """The quick-lookup box: an MP id of a bundled structure, a pasted CIF/POSCAR, or a formula."""
    if io.is_mp_id(text):
        return data.find_mp_id(text)[0]
    return io.parse_input(text)


def quick_lookup() -> None:
    """A formula or pasted CIF → P(superconductor) and Tc from the default model."""
    names = models.available()
    if not names:
        st.info("No trained model is installed yet: run `make train`.")
        return
    name = names[0]
    text = st.text_area(
        "Quick lookup: a formula or a pasted CIF/POSCAR",
        key="home_text",
        placeholder="e.g. MgB2, YBa2Cu3O6.95 or mp-19735",
        height=90,
    )
    st.button("Look up", type="primary")  # reruns the page; the text box also applies on Ctrl+Enter
    if not text.strip():
        return
    try:
        item = read_text(text)
        model = get_model(name)
        row = model.predict([item]).iloc[0]
    except InputError as exc:
        st.error(str(exc))
        return
    except Exception:  # never show a traceback for user input
        unexpected_error("Sorry, this input could not be processed. Check it, or try the Predict page.")
        return
    if row["error"]:
        st.error(row["error"])
        return
    is_structure = isinstance(item, Structure)
    comp = item.composition if is_structure else item
    st.markdown(f"Read as **{display_formula(comp, reorder=is_structure, reduce=is_structure)}**")
    inside, note = domain_note(comp)
    prediction_metrics(row, thresholds.of(model.card), inside)
    (st.caption if inside else st.warning)(note)
    st.caption(f"Model `{name}` (version {model.version}). The Predict page shows more detail.")


def home() -> None:
    st.title(TITLE)
    st.markdown(
        "This tool estimates how likely a material is to be a superconductor, and its critical "
        "temperature Tc, from a chemical formula or a crystal structure. The models are trained on "
        "the SuperCon database and benchmarked on held-out and external test sets; use them to rank "
        "candidate materials before spending time in the lab, not as a substitute for measurement."
    )
    quick_lookup()
    st.subheader("Pages")
    st.page_link(PAGES["predict"], label="Predict: one material, with uncertainty and nearest known superconductors")
    st.page_link(PAGES["crystal_viewer"], label="Crystal viewer: 3D structures from a file or the bundled sets")
    st.page_link(PAGES["candidates"], label="Candidates: screen a pool of materials, filter and download")
    st.page_link(PAGES["model_performance"], label="Model performance: test-set metrics, ROC/PR curves, Tc parity")
    st.page_link(PAGES["element_embeddings"], label="Element embeddings: how a model sees the periodic table")


PAGES = {
    "home": st.Page(home, title="Home", icon=":material/home:", default=True),  # served at /
    "predict": st.Page("views/predict.py", title="Predict", icon=":material/science:", url_path="predict"),
    "crystal_viewer": st.Page("views/crystal_viewer.py", title="Crystal viewer", icon=":material/deployed_code:",
                              url_path="crystal_viewer"),
    "candidates": st.Page("views/candidates.py", title="Candidates", icon=":material/filter_alt:",
                          url_path="candidates"),
    "model_performance": st.Page("views/model_performance.py", title="Model performance",
                                 icon=":material/monitoring:", url_path="model_performance"),
    "element_embeddings": st.Page("views/element_embeddings.py", title="Element embeddings",
                                  icon=":material/grid_on:", url_path="element_embeddings"),
}

page = st.navigation(list(PAGES.values()))
# the browser tab names the page, "Predict · Superconductor discovery" (Home, at /: the app's title alone)
st.set_page_config(page_title=TITLE if page.url_path == "" else f"{page.title} · {TITLE}")
page.run()
