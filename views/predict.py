"""Predict: P(superconductor) and Tc for one material, with the nearest known SuperCon entries."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pymatgen.core import Structure
from streamlit.errors import StreamlitPageNotFoundError

from sc_core import (
    InputError,
    attribution,
    data,
    intervals,
    io,
    screening,
    thresholds,
    viewer,
)
from sc_core.chemistry import display_formula
from views._common import (
    PLOT_CONFIG,
    domain_note,
    get_model,
    prediction_metrics,
    trained_models,
    unexpected_error,
)

EXAMPLES = ("La1.85Sr0.15CuO4", "MgB2", "Ba0.6K0.4Fe2As2", "YBa2Cu3O6.95")
MAX_MB = io.MAX_FILE_BYTES // 2**20
GENERIC_ERROR = "Sorry, this input could not be processed. Check the formula or file and try again."
GREY = "#e6e6e6"
TEXT_INPUT, UPLOAD_INPUT = "Formula, MP id or pasted CIF/POSCAR", "Upload CIF/POSCAR"
INPUTS = (TEXT_INPUT, UPLOAD_INPUT)  # the input tabs: only the open one's input is predicted


@st.cache_data(show_spinner="Searching SuperCon…", max_entries=256)
def nearest_known(formula: str, k: int = 5):
    return screening.nearest_known(io.parse_formula(formula), k=k)


@st.cache_data(show_spinner=False, max_entries=256)
def contributions(name: str, formula: str) -> pd.DataFrame:
    return attribution.element_contributions(get_model(name), io.parse_formula(formula))


@st.cache_data(show_spinner=False)
def table_cells() -> pd.DataFrame:
    return data.periodic_table_grid()


def set_example(formula: str) -> None:
    st.session_state.predict_text = formula
    st.session_state.predict_input = TEXT_INPUT


def unused_input(use_upload: bool, text: str, upload) -> str:
    """A note naming the input of the closed tab when it holds something, since only the open tab's is used."""
    if use_upload and text.strip():
        return f"The text box is not used while this tab is open: open the “{TEXT_INPUT}” tab to predict it."
    if not use_upload and upload is not None:
        return (f"The uploaded file {io.quote(upload.name)} is not used while this tab is open: open the "
                f"“{UPLOAD_INPUT}” tab to predict it.")
    return ""


def read_upload(upload) -> tuple[Structure, str]:
    """(Structure, where it came from); raises InputError for a bad file."""
    return io.read_structure(upload.getvalue(), filename=upload.name), f"uploaded file {upload.name}"


def read_text(text: str) -> tuple[object, str]:
    """(Composition or Structure, where it came from); raises InputError for bad input."""
    if io.is_mp_id(text):
        structure, row = data.find_mp_id(text)
        return structure, f"bundled 3DSC structure {row['mp_id']} ({display_formula(row['formula'])})"
    item = io.parse_input(text)
    return item, ("pasted structure" if isinstance(item, Structure) else "formula")


def page_link(page: str, label: str) -> None:
    try:
        st.page_link(page, label=label, icon=":material/deployed_code:")
    except StreamlitPageNotFoundError:  # this page was started on its own, outside app.py
        st.caption(f"{label}: open the Crystal viewer page of the app.")


def contribution_bars(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(
        x=table["delta_p"], y=table["element"], orientation="h",
        marker={"color": table["delta_p"], "colorscale": viewer.CONTRIBUTION_SCALE, "cmid": 0},
        customdata=table[["fraction", "delta_tc_K"]],
        hovertemplate="<b>%{y}</b> (atomic fraction %{customdata[0]:.3f})<br>ΔP = %{x:+.3f}"
                      "<br>ΔTc = %{customdata[1]:+.1f} K<extra></extra>"))
    fig.update_layout(xaxis_title=f"ΔP(superconductor)<br>with minus without the element<br>"
                                  f"({viewer.CONTRIBUTION_ENDS[0]})",
                      height=160 + 32 * len(table), margin={"t": 20, "b": 20, "l": 10, "r": 10})
    fig.update_xaxes(automargin=True)  # the margins grow to hold the three-line title and the element labels
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def periodic_heatmap(table: pd.DataFrame) -> go.Figure:
    cells = table_cells().merge(table, left_on="symbol", right_on="element", how="left")
    cells["in_formula"] = cells["symbol"].where(cells["element"].notna(), "")

    def layout(column: str) -> pd.DataFrame:
        wide = cells.pivot(index="row", columns="col", values=column)
        return wide.reindex(index=range(1, cells["row"].max() + 1), columns=range(1, 19))

    background = layout("Z") * 0  # 0 on every element's cell, NaN (nothing drawn) elsewhere
    fig = go.Figure([
        go.Heatmap(z=background, text=layout("symbol").fillna(""), texttemplate="%{text}", showscale=False,
                   colorscale=[[0, GREY], [1, GREY]], xgap=2, ygap=2, hoverongaps=False,
                   hovertemplate="%{text}<extra></extra>"),
        go.Heatmap(z=layout("delta_p"), text=layout("in_formula").fillna(""), texttemplate="%{text}",
                   colorscale=viewer.CONTRIBUTION_SCALE, zmid=0, xgap=2, ygap=2, hoverongaps=False,
                   colorbar={"title": {"text": "ΔP<br>" + viewer.CONTRIBUTION_ENDS[0].replace(" a ", " a<br>")},
                             "thickness": 14},
                   hovertemplate="<b>%{text}</b>: ΔP = %{z:+.3f}<extra></extra>"),
    ])
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(height=360, margin={"t": 10, "b": 10, "l": 10, "r": 10}, plot_bgcolor="rgba(0,0,0,0)")
    return fig


def element_section(name: str, formula: str) -> None:
    st.subheader("Which elements drive this prediction")
    with st.spinner("Predicting the material again without each element…"):
        table = contributions(name, formula)
    st.caption("Each element is taken out in turn, the remaining atomic fractions are scaled back up to a whole, "
               "and the material is predicted again: ΔP is how much higher P(superconductor) is with the element "
               f"than without it ({viewer.CONTRIBUTION_COLOURS}). A single element is compared with an "
               "undecided P = 0.5.")
    left, right = st.columns([2, 3])
    left.plotly_chart(contribution_bars(table), width="stretch", config=PLOT_CONFIG)
    right.plotly_chart(periodic_heatmap(table), width="stretch", config=PLOT_CONFIG)


def kelvin(tc: float) -> str:
    return f"{round(tc, 1):g} K"


def known_note(match: screening.SuperconMatch) -> str:
    """What SuperCon says of this composition (as the Candidates page's SuperCon columns): the entries matched,
    their Tc range, and the closest entry with its distance."""
    how = "exactly" if match.distance == 0 else f"composition distance {match.distance:.4f}"
    tc = f"Tc {kelvin(match.tc)}" if match.as_close == 1 else f"mean Tc {kelvin(match.tc)} of {match.as_close} entries"
    closest = f"**{display_formula(match.formula)}** ({how}; {tc})"
    if match.entries == 1:
        note = f"This composition is in SuperCon as {closest}."
    else:
        low, high = kelvin(match.tc_min), kelvin(match.tc_max)
        span = low if low == high else f"{low.removesuffix(' K')} to {high}"
        note = (f"This composition matches **{match.entries} SuperCon entries** (the same elements, every atomic "
                f"fraction within {screening.KNOWN_TOLERANCE:g}), Tc {span}; the closest is {closest}.")
    if match.tc_min == 0:
        note += " Tc = 0 means it was measured and not found superconducting."
    return note + " The models learn from SuperCon, so for this material the prediction is not an independent test."


def show_prediction(item, source: str, name: str) -> None:
    model = get_model(name)
    is_structure = isinstance(item, Structure)
    comp = item.composition if is_structure else item
    formula = comp.formula.replace(" ", "")

    sites = f" · {len(item)} sites" if is_structure else ""
    shown = display_formula(comp, reorder=is_structure, reduce=is_structure)
    st.markdown(f"Read as **{shown}**{sites} (from the {source})")
    if is_structure:
        st.session_state.viewer_structure = {"label": source, "structure": item}
        page_link("views/crystal_viewer.py", "See this structure in the Crystal viewer")

    if model.kind == "structure" and not is_structure:
        st.warning(
            f"The **{name}** model works from a crystal structure, and a formula has none. Paste or upload a "
            "CIF/POSCAR, give an MP id of a bundled structure (e.g. mp-19735), or pick a composition model."
        )
        return

    row = model.predict([item]).iloc[0]
    if row["error"]:
        st.error(row["error"])
        return
    inside, note = domain_note(comp)
    prediction_metrics(row, thresholds.of(model.card), inside)
    (st.caption if inside else st.warning)(note)
    st.caption(f"The {model.kind} model `{name}`, version {model.version}.")
    for line in intervals.describe(row, conformal=intervals.conformal_of_card(model.card)):
        st.caption(line)
    st.caption("Predictions are for ambient pressure: the training data (SuperCon, 3DSC, S2S) carry no pressure, "
               "so a material that superconducts only under pressure (e.g. H3S) reads as it would at 1 atm.")
    if model.kind == "composition" and is_structure:
        st.caption(f"`{name}` is a composition model: only the composition of this structure is used.")

    if match := screening.supercon_match(comp):
        st.info(known_note(match))

    if model.kind == "composition":
        element_section(name, formula)

    st.subheader("Nearest known SuperCon entries")
    nearest = nearest_known(formula)
    st.dataframe(
        nearest[["formula", "tc", "distance"]].assign(formula=nearest["formula"].map(display_formula)),
        hide_index=True,
        column_config={
            "formula": st.column_config.TextColumn("Formula"),
            "tc": st.column_config.NumberColumn("Tc (K)", format="%.2f", help="0 = not a superconductor"),
            "distance": st.column_config.NumberColumn(
                "Composition distance", format="%.4f",
                help="Half the summed difference of atomic fractions: 0 = same composition, 1 = nothing shared."),
        },
    )


st.title("Predict")
st.markdown("Enter a chemical formula, paste a CIF or POSCAR, or give the Materials Project id of a bundled "
            "structure (e.g. mp-19735); or upload a structure file. The tab that is open is the input used.")

names = trained_models()

left, right = st.columns([3, 2])
with left:
    typed, uploaded = st.tabs(list(INPUTS), key="predict_input", on_change="rerun")
    with typed:
        text = st.text_area("Formula, CIF/POSCAR text or MP id", key="predict_text", height=120,
                            placeholder="e.g. Ba0.6K0.4Fe2As2")
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button("Predict", type="primary")  # reruns the page; the text box also applies on Ctrl+Enter
            st.caption("Examples:")
            for example in EXAMPLES:
                st.button(example, on_click=set_example, args=(example,), type="tertiary")
    with uploaded:
        upload = st.file_uploader(f"A structure file (CIF, .vasp, POSCAR; up to {MAX_MB} MB)",
                                  max_upload_size=MAX_MB)
with right:
    name = st.selectbox("Model", names, help="Every trained model registered in sc_core.models.")

use_upload = bool(uploaded.open)
if unused := unused_input(use_upload, text, upload):
    st.caption(unused)
if (upload is None) if use_upload else not text.strip():
    st.stop()
try:
    item, source = read_upload(upload) if use_upload else read_text(text)
    show_prediction(item, source, name)
except InputError as exc:
    st.error(str(exc))
except Exception:  # never show a traceback for user input
    unexpected_error(GENERIC_ERROR)
