"""Crystal viewer: a 3D view of an uploaded or bundled structure, its sites, and a CIF download."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from pymatgen.core import Structure

from sc_core import InputError, attribution, chemistry, data, io, models, thresholds, viewer
from sc_core.chemistry import display_formula
from views._common import PLOT_CONFIG, domain_note, get_model, unexpected_error

VIEW_WIDTH, VIEW_HEIGHT = 640, 480
MAX_MB = io.MAX_FILE_BYTES // 2**20
MAX_CHOICES = 200  # matches offered by a structure picker
SCRIPT_URL = "/app/static/3Dmol-min.js"  # the vendored 3Dmol.js (.streamlit/config.toml: enableStaticServing)
DEFAULT_MP_ID = "mp-19735"  # La2CuO4, the parent compound of the first high-Tc cuprate

# the model outputs below depend on the model and the structure only: computed once per server process, not per rerun
BY_STRUCTURE = {"max_entries": 64, "hash_funcs": {Structure: Structure.as_dict}}

FROM_PREDICT, BUNDLED_3DSC, BUNDLED_S2S, EXAMPLES, UPLOAD = (
    "From the Predict page", "Bundled 3DSC structure", "S2S crystal", "S2SNet paper examples", "Upload a file")


@st.cache_data(show_spinner=False)
def choices_3dsc() -> tuple[dict[str, str], str]:
    """3DSC id → label, and the id shown first."""
    table = data.load_3dsc()
    labels = {
        row.id: f"{display_formula(row.formula)} · {row.mp_id} · Tc {row.tc:g} K{' (doped)' if row.synth_doped else ''}"
        for row in table.itertuples()
    }
    try:
        default = data.find_mp_id(DEFAULT_MP_ID)[1]["id"]
    except InputError:
        default = table["id"].iloc[0]
    return labels, default


@st.cache_data(show_spinner=False)
def choices_s2s() -> dict[str, str]:
    table = data.load_s2s()
    kind = {1: "superconductor", 0: "non-superconductor"}
    return {row.id: f"{display_formula(row.formula)} · {kind.get(row.label, '?')} · {row.id}"
            for row in table.itertuples()}


@st.cache_resource(show_spinner="Reading the structure…", max_entries=64)
def structure_3dsc(entry_id: str):
    table = data.load_3dsc()
    row = table[table["id"] == entry_id].iloc[0]
    return data.structure_3dsc(row["cif_name"]), f"{display_formula(row['formula'])} ({row['mp_id']}, 3DSC {entry_id})"


@st.cache_resource(show_spinner="Reading the S2S crystals…")
def s2s_structures():
    return data.s2s_structures()


@st.cache_resource(show_spinner=False)
def fig7_example(formula: str):
    return attribution.fig7_example(formula)


@st.cache_data(show_spinner=False, **BY_STRUCTURE)
def prediction(name: str, structure: Structure) -> pd.Series:
    return get_model(name).predict([structure]).iloc[0]


@st.cache_data(show_spinner="Computing each atom's contribution…", **BY_STRUCTURE)
def contributions(name: str, structure: Structure, method: str) -> pd.DataFrame:
    return attribution.site_contributions(get_model(name), structure, method)


@st.cache_resource(show_spinner=False, **BY_STRUCTURE)
def element_bars(name: str, structure: Structure, method: str) -> go.Figure:
    """The summed contribution of each element (one figure for every session: st.plotly_chart only reads it)."""
    figure = px.bar(attribution.element_summary(contributions(name, structure, method)), x="element", y="total",
                    color="total", color_continuous_scale=viewer.CONTRIBUTION_SCALE, color_continuous_midpoint=0.0,
                    hover_data=["sites", "mean"], labels={"total": "summed contribution", "element": "element"},
                    title=f"Contribution by element<br><sup>{viewer.CONTRIBUTION_COLOURS}</sup>")
    figure.update_layout(height=340, margin={"t": 60, "b": 0}, coloraxis_showscale=False)  # room for two title lines
    return figure


def show_example(formula: str) -> None:
    st.session_state["viewer_source"], st.session_state["viewer_example"] = EXAMPLES, formula


def search(labels: dict[str, str], noun: str, key: str, first: str | None = None) -> str | None:
    """A search box over `labels` (id → label) and a picker of the first MAX_CHOICES matches (a picker of every
    bundled structure is slow to send and draw); the chosen id, or None when nothing matches."""
    query = st.text_input(f"Search the {len(labels):,} {noun}s by formula or MP id", key=f"{key}_query",
                          placeholder="e.g. MgB2, Nb3Sn or mp-19735").strip()
    keys = list(labels)
    ids = [keys[i] for i in chemistry.search(query, list(labels.values()))]
    if first in ids:
        ids.insert(0, ids.pop(ids.index(first)))
    if not ids:
        st.info(f"No {noun} matches “{query}”.")
        return None
    shown = f"the first {MAX_CHOICES:,} of {len(ids):,}" if len(ids) > MAX_CHOICES else f"{len(ids):,}"
    return st.selectbox(f"{noun} ({shown} matches)", ids[:MAX_CHOICES], format_func=labels.get, key=key)


def pick_structure():
    """(Structure, label) from the chosen source, or (None, '') when there is nothing to show yet."""
    sources = [BUNDLED_3DSC, BUNDLED_S2S, EXAMPLES, UPLOAD]
    from_predict = st.session_state.get("viewer_structure")
    if from_predict:
        sources.insert(0, FROM_PREDICT)
    st.caption("Examples of the S2SNet paper (Liu et al. 2022, Fig. 7):")
    for column, formula in zip(st.columns(len(attribution.FIG7_EXAMPLES) + 2), attribution.FIG7_EXAMPLES):
        column.button(formula, on_click=show_example, args=(formula,), width="stretch")
    source = st.radio("Structure", sources, horizontal=True, label_visibility="collapsed", key="viewer_source")
    if source == EXAMPLES:
        st.session_state.setdefault("viewer_example", attribution.FIG7_EXAMPLES[0])  # not also a widget default
        formula = st.segmented_control("Example", attribution.FIG7_EXAMPLES, key="viewer_example")
        return fig7_example(formula or attribution.FIG7_EXAMPLES[0])
    if source == FROM_PREDICT:
        return from_predict["structure"], from_predict["label"]
    if source == BUNDLED_3DSC:
        labels, default = choices_3dsc()
        entry = search(labels, "3DSC structure", "viewer_3dsc", first=default)
        return structure_3dsc(entry) if entry else (None, "")
    if source == BUNDLED_S2S:
        labels = choices_s2s()
        entry = search(labels, "S2S crystal", "viewer_s2s")
        return (s2s_structures()[entry], labels[entry]) if entry else (None, "")
    upload = st.file_uploader(f"CIF, .vasp or POSCAR file (up to {MAX_MB} MB)", max_upload_size=MAX_MB)
    if upload is None:
        return None, ""
    return io.read_structure(upload.getvalue(), filename=upload.name), f"uploaded file {upload.name}"


def colour_controls(structure):
    """Model and method chosen in the sidebar column → (site table with contributions or None, model name,
    method)."""
    names = models.available("structure")
    if not names:
        st.caption("Atoms are coloured by element. Per-atom contributions appear here once a structure "
                   "model is trained.")
        return None, None, None
    default = 1 + (names.index(attribution.DEFAULT_MODEL) if attribution.DEFAULT_MODEL in names else 0)
    name = st.selectbox("Colour by contributions of", ["element colours", *names], index=default)
    if name == "element colours":
        return None, None, None
    model = get_model(name)
    method = st.radio("Method", model.attribution_methods, format_func=attribution.METHOD_NAMES.get,
                      horizontal=True) if len(model.attribution_methods) > 1 else model.attribution_methods[0]
    sites = contributions(name, structure, method)
    st.caption(f"Atoms coloured by their contribution to the prediction ({viewer.CONTRIBUTION_COLOURS}; "
               f"{attribution.METHOD_NAMES[method]} on the classification logit).")
    if warning := attribution.symmetry_warning(sites):
        st.warning(warning, icon=":material/warning:")
    return sites, name, method


def show_prediction(name: str, structure) -> None:
    row = prediction(name, structure)
    if row["error"]:
        st.warning(row["error"])
        return
    inside, note = domain_note(structure.composition)
    st.markdown(f"**{name}**: P(superconductor) = {row['p_sc']:.2f} ± {row['p_sc_std']:.2f}, "
                f"{thresholds.reading(row['p_sc'], thresholds.of(get_model(name).card), inside)} · "
                f"Tc if it superconducts = {row['tc_K']:.1f} ± {row['tc_std_K']:.1f} K")
    if not inside:
        st.warning(note)


def show(structure, label: str) -> None:
    lattice = structure.lattice
    formula = display_formula(structure.composition, reorder=True)
    st.markdown(
        f"**{formula}** · {label} · {len(structure)} sites · "
        f"a, b, c = {lattice.a:.3f}, {lattice.b:.3f}, {lattice.c:.3f} Å · "
        f"α, β, γ = {lattice.alpha:.1f}°, {lattice.beta:.1f}°, {lattice.gamma:.1f}°"
    )
    view, controls = st.columns([3, 1])
    with controls:
        supercell = st.slider("Supercell", 1, viewer.MAX_SUPERCELL, 1, help="Repeat the cell n×n×n times.")
        labels = st.toggle("Element labels", value=len(structure) <= 40)
        sites, name, method = colour_controls(structure)
    values = None if sites is None else sites["contribution"].to_numpy()
    with view:
        if name:
            show_prediction(name, structure)
        html = viewer.structure_html(structure, values, supercell=supercell, labels=labels,
                                     width=VIEW_WIDTH, height=VIEW_HEIGHT, value_label="contribution to the logit",
                                     ends=viewer.CONTRIBUTION_ENDS,
                                     js=SCRIPT_URL)
        st.iframe(html, height=VIEW_HEIGHT + 16, alt=f"3D view of {formula}")
        if sites is None:
            st.markdown(f"Element colours (Jmol): {viewer.element_key(structure)}", unsafe_allow_html=True)
        st.caption("Drag to rotate, scroll to zoom, hover an atom to see its site occupancy.")

    st.subheader("Sites")
    st.caption(f"Cell contents {display_formula(structure.composition, reorder=True, reduce=False)}.")
    table, summary = st.columns([3, 2]) if sites is not None else (st.container(), None)
    with table:
        st.dataframe(
            attribution.site_table(structure) if sites is None else sites,
            hide_index=True,
            column_config={
                "site": st.column_config.NumberColumn("Site"),
                "species": st.column_config.TextColumn("Species (occupancy)"),
                "element": st.column_config.TextColumn("Majority element"),
                "wyckoff": st.column_config.TextColumn("Wyckoff", help="Wyckoff position (spglib, 0.01 Å)"),
                "equivalent_set": st.column_config.NumberColumn(
                    "Equivalent set", help="Sites with the same number are equivalent by symmetry"),
                "a": st.column_config.NumberColumn("x (frac.)", format="%.4f"),
                "b": st.column_config.NumberColumn("y (frac.)", format="%.4f"),
                "c": st.column_config.NumberColumn("z (frac.)", format="%.4f"),
                "occupancy": st.column_config.NumberColumn("Total occupancy", format="%.3f"),
                "contribution": st.column_config.NumberColumn("Contribution", format="%+.3f"),
            },
        )
    if summary is not None:
        summary.plotly_chart(element_bars(name, structure, method), width="stretch", config=PLOT_CONFIG)
    st.download_button("Download as CIF", lambda: io.structure_to_cif(structure),  # written on a click
                       file_name=f"{formula}.cif", mime="chemical/x-cif", icon=":material/download:",
                       on_click="ignore")


st.title("Crystal viewer")
try:
    structure, label = pick_structure()
    if structure is not None:
        show(structure, label)
except InputError as exc:
    st.error(str(exc))
except Exception:  # never show a traceback for user input
    unexpected_error("Sorry, this structure could not be shown. Check the file and try again.")
