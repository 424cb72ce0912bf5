"""Candidates: screen a pool of materials with one or more models, filter the table, download a shortlist."""

from __future__ import annotations

import functools
import math

import streamlit as st

from sc_core import InputError, chemistry, io, models, screening
from views._common import table_height, trained_models, unexpected_error

UPLOAD = "upload"
KNOWN = {"any": "Any", "known": "In SuperCon", "unknown": "Not in SuperCon"}
FORMULA_COLUMNS = ("formula", "supercon_formula", "nearest_sc")  # shown as chemists write them
CRYSTAL_SYSTEMS = ("cubic", "hexagonal", "trigonal", "tetragonal", "orthorhombic", "monoclinic", "triclinic")
EXPORTS = {"csv": ("CSV", "text/csv"), "json": ("JSON", "application/json"),
           "xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}


@st.cache_data(show_spinner="Loading the pool…")
def load_pool(name: str):
    return screening.load_pool(name)


def pool_label(name: str) -> str:
    return screening.POOLS.get(name, "Upload: a CSV with a 'formula' column, or a zip of CIF/POSCAR files")


def get_pool(choice: str, upload):
    """(pool table, description); raises InputError for a bad upload."""
    if choice != UPLOAD:
        return load_pool(choice), choice
    if upload is None:
        raise InputError("Upload a CSV or zip file first.")
    return io.read_pool(upload.name, upload.getvalue()), upload.name


def run_screen(pool, label: str, chosen: list[str]) -> None:
    bar = st.progress(0.0, text=f"Screening {len(pool):,} materials…")

    def progress(task: str, unit: str):
        return lambda done, total: bar.progress(min(done / max(total, 1), 1.0),
                                                text=f"{task}: {done:,} of {total:,} {unit}")

    table = screening.screen(pool, chosen, progress=progress(f"Screening {label}", "steps"))
    bar.progress(0.0, text="Finding the nearest known superconductor of each material…")
    table = screening.annotate(table, progress=progress("Nearest known superconductors, the models' domain", "steps"))
    bar.empty()
    run = st.session_state.get("candidates", {}).get("run", 0) + 1
    st.session_state.candidates = {"table": table, "models": chosen, "pool": label, "run": run}


def sidebar_filters(table, run: int) -> screening.Filters:
    """Filter widgets; their keys include the screening run, so a new table starts unfiltered."""
    sb = st.sidebar
    sb.header("Filters")
    predicted_only = sb.toggle("Predicted superconductors only", True, key=f"predicted_{run}",
                               help="Rows whose P(sc) reaches the models' decision threshold (the Threshold column: "
                                    "each model's is chosen on leave-one-family-out folds of its training data).")
    min_p = sb.slider("P(superconductor) ≥", 0.0, 1.0, 0.0, 0.01, key=f"min_p_{run}")
    tc_min = tc_max = None
    tc = table["tc_gated_K"].dropna()
    if not tc.empty and tc.max() > 0:
        top = float(math.ceil(tc.max()))
        low, high = sb.slider("Predicted Tc (K)", 0.0, top, (0.0, top), 1.0, format="%.0f K", key=f"tc_{run}",
                              help="On the Tc of rows whose P(sc) reaches the models' decision threshold: a bound "
                                   "on Tc also leaves out the rows that do not read as superconductors.")
        tc_min = low if low > 0 else None
        tc_max = high if high < top else None
    symbols = sorted(set(" ".join(table["elements"].fillna("")).split()))
    include = sb.multiselect("Must contain all of", symbols, key=f"include_{run}")
    exclude = sb.multiselect("Must not contain", symbols, key=f"exclude_{run}")
    n_elements = None
    counts = table.loc[table["n_elements"] > 0, "n_elements"]
    if not counts.empty and counts.min() < counts.max():
        lo, hi = int(counts.min()), int(counts.max())
        picked = sb.slider("Number of elements", lo, hi, (lo, hi), key=f"n_el_{run}")
        n_elements = None if picked == (lo, hi) else picked
    families = sb.multiselect("Exclude families", list(chemistry.FAMILIES), key=f"families_{run}")
    groups = sorted(set(table["space_group"]) - {""})
    systems = [s for s in CRYSTAL_SYSTEMS if s in set(table["crystal_system"])]
    crystal_systems = sb.multiselect("Crystal system", systems, key=f"systems_{run}") if systems else []
    space_groups = sb.multiselect("Space group", groups, key=f"space_groups_{run}") if groups else []
    known = sb.radio("Known in SuperCon", list(KNOWN), format_func=KNOWN.get, key=f"known_{run}")
    in_domain_only = sb.toggle("Inside the models' domain only", key=f"domain_{run}",
                               help="Leave out materials unlike anything the models were trained on.")
    return screening.Filters(min_p=min_p, predicted_only=predicted_only, tc_min=tc_min, tc_max=tc_max,
                             include_elements=tuple(include), exclude_elements=tuple(exclude), n_elements=n_elements,
                             exclude_families=tuple(families), known=known, space_groups=tuple(space_groups),
                             crystal_systems=tuple(crystal_systems), in_domain_only=in_domain_only)


def show_table(table, chosen: list[str], cells: bool) -> None:
    """The shortlist, each model's own columns on demand; `cells`: its formulas are those of crystal cells (reduced
    for showing: K4Sn8 as KSn2), not formulas as written (kept: K3C60)."""
    several = len(chosen) > 1 and st.toggle(  # one model: its columns are the consensus ones
        "Each model's P and Tc", key="per_model_columns",
        help="Beside the consensus (the mean over the chosen models), a P(sc) column per model and a Tc column "
             "per model that predicts Tc. The downloads always have them, as p_sc_<model> and tc_K_<model>.")
    per_model = [f"p_sc_{name}" for name in chosen] if several else []
    per_model_tc = [f"tc_K_{name}" for name in chosen if table[f"tc_K_{name}"].notna().any()] if several else []
    order = ["formula", "p_sc", "decision_threshold", "tc_gated_K", "in_domain",  # the consensus first (1280 px)
             "in_supercon", "tc_K", "tc_std_K", *per_model, *per_model_tc, "id", "family", "space_group",
             "crystal_system",
             "elements", "n_elements", "contains_O", "supercon_entries", "supercon_tc_min_K", "supercon_tc_max_K",
             "supercon_formula", "supercon_tc_K", "supercon_distance", "nearest_sc", "nearest_sc_tc_K",
             "nearest_sc_distance", "mp_id"]
    if table["error"].fillna("").ne("").any():
        order.append("error")
    config = {
        "id": st.column_config.TextColumn("Id"),
        "formula": st.column_config.TextColumn("Formula"),
        "p_sc": st.column_config.ProgressColumn("P(sc)", min_value=0.0, max_value=1.0, format="%.2f",
                                                help="Mean P(superconductor) over the chosen models"),
        "tc_gated_K": st.column_config.NumberColumn(
            "Tc (K)", format="%.1f", help="Mean predicted Tc over the chosen models where P(sc) reaches the "
                                          "decision threshold; blank where the row does not read as a "
                                          "superconductor. Sort and filter by this column."),
        "decision_threshold": st.column_config.NumberColumn(
            "Threshold", format="%.2f", help="The P(sc) at or above which the row reads as a superconductor: the "
                                             "mean of the chosen models' decision thresholds, each chosen on "
                                             "leave-one-family-out folds of its training data (0.5 without)"),
        "in_domain": st.column_config.CheckboxColumn(
            "In domain", help="Inside what the models were trained on (near SuperCon compositions); outside, a low "
                              "P(sc) means unknown rather than no. The export also has domain_distance."),
        "tc_K": st.column_config.NumberColumn("Tc if sc (K)", format="%.1f",
                                              help="Mean predicted Tc assuming the material superconducts"),
        "tc_std_K": st.column_config.NumberColumn("± Tc (K)", format="%.1f",
                                                  help="Spread of Tc across the models and their members"),
        "family": st.column_config.TextColumn("Family"),
        "elements": st.column_config.TextColumn("Elements"),
        "n_elements": st.column_config.NumberColumn("# el.", format="%d"),
        "contains_O": st.column_config.CheckboxColumn("Has O"),
        "in_supercon": st.column_config.CheckboxColumn("In SuperCon"),
        "supercon_entries": st.column_config.NumberColumn(
            "SuperCon entries", format="%d", help=f"SuperCon entries with the same elements and every atomic fraction "
                                                  f"within {screening.KNOWN_TOLERANCE:g} (as on the Predict page)"),
        "supercon_tc_min_K": st.column_config.NumberColumn("their lowest Tc (K)", format="%.1f",
                                                           help="0 = measured, not a superconductor"),
        "supercon_tc_max_K": st.column_config.NumberColumn("their highest Tc (K)", format="%.1f"),
        "supercon_formula": st.column_config.TextColumn("Closest SuperCon entry"),
        "supercon_tc_K": st.column_config.NumberColumn("its Tc (K)", format="%.1f",
                                                       help="The mean over the entries as close"),
        "supercon_distance": st.column_config.NumberColumn(
            "its distance", format="%.4f", help="Half the L1 distance between atomic fractions (0 = the same)"),
        "mp_id": st.column_config.TextColumn("MP id"),
        "space_group": st.column_config.TextColumn("Space group"),
        "crystal_system": st.column_config.TextColumn("Crystal system"),
        "nearest_sc": st.column_config.TextColumn("Nearest known superconductor",
                                                  help="Closest other SuperCon superconductor in composition"),
        "nearest_sc_tc_K": st.column_config.NumberColumn("its Tc (K)", format="%.1f"),
        "nearest_sc_distance": st.column_config.NumberColumn(
            "distance", format="%.3f", help="Half the L1 distance between atomic fractions (0 same, 1 disjoint)"),
        "error": st.column_config.TextColumn("Problem"),
    }
    for name in chosen:
        config[f"p_sc_{name}"] = st.column_config.NumberColumn(f"P {name}", format="%.2f")
        config[f"tc_K_{name}"] = st.column_config.NumberColumn(f"Tc {name} (K)", format="%.1f",
                                                               help=f"{name}'s Tc if superconducting")
    shown = table.assign(**{c: table[c].map(functools.partial(chemistry.display_formula,
                                                               reduce=cells or c != "formula"))
                            for c in FORMULA_COLUMNS if c in table})
    st.dataframe(shown, hide_index=True, column_order=order, column_config=config, height=table_height(len(table)))


st.title("Candidates")
st.markdown("Screen a pool of materials with the trained models, narrow the list with the filters in the "
            "sidebar, and download the shortlist. P(sc) is the mean over the chosen models.")

names = trained_models()

left, right = st.columns([3, 2])
with left:
    choice = st.radio("Pool", [*screening.POOLS, UPLOAD], format_func=pool_label)
    upload = None
    if choice == UPLOAD:
        upload = st.file_uploader("CSV (formula column, optional id) or zip of CIF/POSCAR files",
                                  type=["csv", "zip"],
                                  help=f"Up to {io.MAX_UPLOAD_BYTES // 2**20} MB and {io.MAX_CSV_ROWS:,} rows; "
                                       f"a zip may unpack to {io.MAX_TOTAL_BYTES // 2**20} MB, "
                                       f"{io.MAX_MEMBER_BYTES // 2**20} MB a file.")
with right:
    structure_models = models.available("structure")
    with_structures = screening.has_structures(choice if choice != UPLOAD else getattr(upload, "name", None))
    usable = names if with_structures else [n for n in names if n not in structure_models]
    chosen = st.multiselect(  # the options change with the pool, and so reset the choice
        "Models", usable, default=usable,
        help="Structure models read crystal structures: the 3DSC and S2S pools and zips of CIF/POSCAR files have "
             "them; COD and CSV files hold formulas only.")
    if idle := [n for n in names if n not in usable]:
        lacking = "a CSV file lacks" if choice == UPLOAD else "this pool lacks"
        st.caption(f"{', '.join(idle)} read{'s' if len(idle) == 1 else ''} crystal structures, which {lacking}: "
                   "screen the 3DSC or S2S pool, or a zip of CIF/POSCAR files, to use "
                   f"{'it' if len(idle) == 1 else 'them'}.")
    clicked = st.button("Screen", type="primary", disabled=not chosen, icon=":material/play_arrow:")

if clicked:
    try:
        pool, label = get_pool(choice, upload)
        run_screen(pool, label, chosen)
    except InputError as exc:
        st.error(str(exc))
    except Exception:  # never show a traceback for user input
        unexpected_error("Sorry, screening failed for this pool. Check the file and try again.")

result = st.session_state.get("candidates")
if result is None:
    st.caption("Choose a pool and press Screen. The COD pool has about 40,000 compositions and takes a while.")
    st.stop()

table = result["table"]
filters = sidebar_filters(table, result["run"])
shortlist = screening.apply_filters(table, filters)
st.subheader(f"{len(shortlist):,} of {len(table):,} candidates from {result['pool']}")
order = st.selectbox("Sort by", list(screening.SORTS), format_func=lambda c: screening.SORTS[c][0],
                     help="Orders the table and the downloads. Clicking a column header re-sorts the view on "
                          "screen only: the downloads keep this order.")
shortlist = screening.sort_shortlist(shortlist, order)
show_table(shortlist, result["models"], screening.has_structures(result["pool"]))
failed = table[table["p_sc"].isna()]
if not failed.empty:
    with st.expander(f"{len(failed):,} rows could not be scored"):
        st.dataframe(failed[["id", "formula", "error"]], hide_index=True)

exported = screening.with_unscored(shortlist, table)
unscored = "" if failed.empty else ", then the rows that could not be scored, with their problem and no predictions"
st.caption(f"The downloads list the rows shown, in the order of “Sort by” ({screening.SORTS[order][0]}), not of a "
           f"column header clicked above{unscored}.")
downloads = st.container(horizontal=True)
for fmt, (label, mime) in EXPORTS.items():
    downloads.download_button(f"Download {label}",
                              data=lambda fmt=fmt: screening.export(exported, fmt, result["models"]),  # on click
                              file_name=f"candidates.{fmt}", mime=mime, icon=":material/download:",
                              on_click="ignore")
