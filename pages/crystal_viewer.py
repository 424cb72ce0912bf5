"""Crystal viewer: a 3D view of an uploaded or bundled structure, its sites, and a CIF download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sc_core import InputError, data, io, models, viewer

VIEW_WIDTH, VIEW_HEIGHT = 640, 480
MAX_MB = io.MAX_FILE_BYTES // 2**20
DEFAULT_MP_ID = "mp-19735"  # La2CuO4, the parent compound of the first high-Tc cuprate

FROM_PREDICT, BUNDLED_3DSC, BUNDLED_S2S, UPLOAD = (
    "From the Predict page", "Bundled 3DSC structure", "S2S crystal", "Upload a file")


@st.cache_resource(show_spinner="Loading the model…")
def get_model(name: str):
    return models.load(name)


@st.cache_data(show_spinner=False)
def choices_3dsc() -> tuple[dict[str, str], str]:
    """3DSC id → label, and the id shown first."""
    table = data.load_3dsc()
    labels = {
        row.id: f"{row.formula} · {row.mp_id} · Tc {row.tc:g} K{' (doped)' if row.synth_doped else ''}"
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
    return {row.id: f"{row.formula} · {kind.get(row.label, '?')} · {row.id}" for row in table.itertuples()}


@st.cache_resource(show_spinner="Reading the structure…", max_entries=64)
def structure_3dsc(entry_id: str):
    table = data.load_3dsc()
    row = table[table["id"] == entry_id].iloc[0]
    return data.structure_3dsc(row["cif_name"]), f"{row['formula']} ({row['mp_id']}, 3DSC {entry_id})"


@st.cache_resource(show_spinner="Reading the S2S crystals…")
def s2s_structures():
    return data.s2s_structures()


def structure_models() -> list[str]:
    return [name for name in models.available() if get_model(name).kind == "structure"]


def pick_structure():
    """(Structure, label) from the chosen source, or (None, '') when there is nothing to show yet."""
    sources = [BUNDLED_3DSC, BUNDLED_S2S, UPLOAD]
    from_predict = st.session_state.get("viewer_structure")
    if from_predict:
        sources.insert(0, FROM_PREDICT)
    source = st.radio("Structure", sources, horizontal=True, label_visibility="collapsed")
    if source == FROM_PREDICT:
        return from_predict["structure"], from_predict["label"]
    if source == BUNDLED_3DSC:
        labels, default = choices_3dsc()
        ids = list(labels)
        entry = st.selectbox(f"3DSC structure ({len(ids):,}; type to search by formula or MP id)", ids,
                             index=ids.index(default), format_func=labels.get)
        return structure_3dsc(entry)
    if source == BUNDLED_S2S:
        labels = choices_s2s()
        entry = st.selectbox(f"S2S crystal ({len(labels):,}; type to search)", list(labels), format_func=labels.get)
        return s2s_structures()[entry], f"{labels[entry]}"
    upload = st.file_uploader(f"CIF, .vasp or POSCAR file (up to {MAX_MB} MB)", max_upload_size=MAX_MB)
    if upload is None:
        return None, ""
    return io.read_structure(upload.getvalue(), filename=upload.name), f"uploaded file {upload.name}"


def site_table(structure) -> pd.DataFrame:
    return pd.DataFrame({
        "site": range(len(structure)),
        "species": [site.species_string for site in structure],
        "a": structure.frac_coords[:, 0],
        "b": structure.frac_coords[:, 1],
        "c": structure.frac_coords[:, 2],
        "occupancy": [site.species.num_atoms for site in structure],
    })


def show(structure, label: str) -> None:
    lattice = structure.lattice
    st.markdown(
        f"**{structure.composition.reduced_formula}** · {label} · {len(structure)} sites · "
        f"a, b, c = {lattice.a:.3f}, {lattice.b:.3f}, {lattice.c:.3f} Å · "
        f"α, β, γ = {lattice.alpha:.1f}°, {lattice.beta:.1f}°, {lattice.gamma:.1f}°"
    )
    view, controls = st.columns([3, 1])
    with controls:
        supercell = st.slider("Supercell", 1, viewer.MAX_SUPERCELL, 1, help="Repeat the cell n×n×n times.")
        labels = st.toggle("Element labels", value=len(structure) <= 40)
        values, value_label = None, "contribution"
        names = structure_models()
        if not names:
            st.caption("Atoms are coloured by element. Per-atom contributions appear here once a structure "
                       "model is trained.")
        else:
            name = st.selectbox("Colour by contributions of", ["element colours", *names])
            if name != "element colours":
                model = get_model(name)
                if hasattr(model, "atom_contributions"):
                    values = model.atom_contributions(structure)
                    value_label = "contribution to P(sc)"
                    st.caption("Red atoms raise the predicted probability, blue atoms lower it.")
                else:
                    st.caption(f"The {name} model does not provide per-atom contributions; atoms are coloured "
                               "by element.")
    with view:
        html = viewer.structure_html(structure, values, supercell=supercell, labels=labels,
                                     width=VIEW_WIDTH, height=VIEW_HEIGHT, value_label=value_label)
        st.iframe(html, height=VIEW_HEIGHT + 16, alt=f"3D view of {structure.composition.reduced_formula}")
        st.caption("Drag to rotate, scroll to zoom, hover an atom to see its site occupancy.")

    st.subheader("Sites")
    st.dataframe(
        site_table(structure),
        hide_index=True,
        column_config={
            "site": st.column_config.NumberColumn("Site"),
            "species": st.column_config.TextColumn("Species (occupancy)"),
            "a": st.column_config.NumberColumn("x (frac.)", format="%.4f"),
            "b": st.column_config.NumberColumn("y (frac.)", format="%.4f"),
            "c": st.column_config.NumberColumn("z (frac.)", format="%.4f"),
            "occupancy": st.column_config.NumberColumn("Total occupancy", format="%.3f"),
        },
    )
    st.download_button("Download as CIF", io.structure_to_cif(structure),
                       file_name=f"{structure.composition.reduced_formula}.cif", mime="chemical/x-cif",
                       icon=":material/download:")


st.title("Crystal viewer")
try:
    structure, label = pick_structure()
    if structure is not None:
        show(structure, label)
except InputError as exc:
    st.error(str(exc))
except Exception:  # never show a traceback for user input
    st.error("Sorry, this structure could not be shown. Check the file and try again.")
