"""Model performance: stored test-set metrics, ROC/PR curves, confusion matrix, calibration and Tc parity.

Results are read from ``benchmarks/results/``, or from the folder named by the ``SC_RESULTS_DIR`` environment
variable when it is set (read on every run; the tests use this).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from sc_core import calibration, evaluate, models, paths, report
from sc_core.report import DATASET_NAMES, METRIC_NAMES, TASK_DESCRIPTIONS
from views._common import PLOT_CONFIG

PALETTE = px.colors.qualitative.D3 + px.colors.qualitative.Dark2 + px.colors.qualitative.Set1  # 28 distinct
PARITY_SERIES = 3  # Tc-parity series shown at first
FIGURES = 64  # figures kept per builder
KEPT = "page"  # a control inside a plot tab keeps its value while another tab is open
LEGEND_BELOW = {"yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0}
# a metric table is wider than a narrow screen: these stay in view while its metrics scroll sideways
PINNED = {column: st.column_config.Column(pinned=True) for column in ("Model", "Test set", "Protocol")}


@st.cache_data(show_spinner=False)
def results_table(names: tuple[str, ...], results_dir: str) -> pd.DataFrame:
    return evaluate.results_table(list(names), Path(results_dir))


@st.cache_data(show_spinner=False)
def load_results(name: str, results_dir: str) -> dict | None:
    return evaluate.load_results(name, Path(results_dir))


@st.cache_data(show_spinner=False)
def load_curves(name: str, results_dir: str) -> list[dict]:
    return evaluate.load_curves(name, Path(results_dir))


@st.cache_data(show_spinner=False)
def parity_formulas(name: str, results_dir: str) -> list[list[str] | None]:
    """Formulas of the points of each Tc-parity curve of `name`, in the order of its curves (None: unmatched)."""
    splits = evaluate.load_splits(name, Path(results_dir))
    return [evaluate.parity_formulas(c, splits) if c["task"] == "tc_regression" else None
            for c in evaluate.load_curves(name, Path(results_dir))]


def curve_label(model: str, curve: dict, datasets: bool = False) -> str:
    if datasets:
        return f"{model} · {report.test_set_label(curve['dataset'], curve['protocol'], curve['threshold_K'])}"
    return f"{model} · {report.protocol_label(curve['protocol'], curve['threshold_K'])}"


@st.cache_data(show_spinner=False)
def wide_tables(names: tuple[str, ...], results_dir: str) -> dict[str, pd.DataFrame]:
    return report.metric_tables(results_table(names, results_dir))


def curves_of(names: tuple[str, ...], results_dir: str) -> dict[str, list[dict]]:
    return {name: load_curves(name, results_dir) for name in names}


def metric_tables(names: tuple[str, ...], results_dir: str) -> None:
    """One table per task: a row per model/test set/protocol, one column per metric ('mean ± std'); the columns
    naming the row are pinned."""
    tables = wide_tables(names, results_dir)
    for task, wide in tables.items():
        st.markdown(f"**{TASK_DESCRIPTIONS[task]}**")
        st.dataframe(wide, hide_index=True, column_config=PINNED)
    if any((wide == report.NOT_MEASURED).any().any() or "Caution" in wide for wide in tables.values()):
        st.caption(f"{report.NOT_MEASURED}: not measured for that row (the MAE over all rows, superconductors or "
                   f"not, is measured on SuperCon's random and grouped splits). “{report.FEW_TEXT}”: fewer than "
                   f"{report.FEW_TEST} test materials, so one or two of them can swing the mean, R² most of all.")


def swept_table(table: pd.DataFrame) -> pd.DataFrame:
    """The classification rows of test sets that sweep the Tc threshold T over more than two values."""
    swept = table[table["task"].isin(["classification", "tc_as_classifier"])]
    return swept[swept.groupby(["model", "dataset", "protocol", "task"])["threshold_K"].transform("nunique") > 2]


# Figures depend only on the stored results and the choices below them, never on a session: built once per server
# process (st.cache_resource: the same object for every session; st.plotly_chart only reads it).
@st.cache_resource(show_spinner=False, max_entries=FIGURES)
def threshold_figure(names: tuple[str, ...], results_dir: str, metric: str) -> go.Figure:
    swept = swept_table(results_table(names, results_dir))
    part = swept[swept["metric"] == metric].assign(
        series=lambda t: t["model"] + " · " + t["task"].map({"classification": "P(Tc > T)",
                                                              "tc_as_classifier": "regressed Tc > T"}),
        dataset=lambda t: t["dataset"].map(lambda d: DATASET_NAMES.get(d, d)))
    fig = px.line(part, x="threshold_K", y="mean", error_y="std", color="series", line_dash="protocol",
                  facet_col="dataset", markers=True, color_discrete_sequence=PALETTE,
                  labels={"threshold_K": "Threshold T (K)", "mean": METRIC_NAMES[metric], "series": "model · score",
                          "protocol": "split"})
    fig.update_layout(height=460, margin={"t": 40}, legend=LEGEND_BELOW)
    return fig


def threshold_section(names: tuple[str, ...], results_dir: str) -> None:
    """Metrics against the Tc threshold T (Quinn & McQueen's Fig. 1B and Fig. 6), for test sets that sweep it."""
    metric = st.segmented_control("Metric", ["f1", "accuracy", "roc_auc", "precision", "recall"],
                                  format_func=METRIC_NAMES.get, default="f1", required=True, key="threshold_metric",
                                  persist_state=KEPT)
    st.plotly_chart(threshold_figure(names, results_dir, metric), width="stretch", config=PLOT_CONFIG)
    st.caption("A material counts as positive when its measured Tc exceeds T. Mean ± std over seeds.")


def auc_text(table: pd.DataFrame, model: str, curve: dict, metric: str) -> str:
    hit = table[(table["model"] == model) & (table["dataset"] == curve["dataset"])
                & (table["protocol"] == curve["protocol"]) & (table["task"] == "classification")
                & (table["threshold_K"] == curve["threshold_K"]) & (table["metric"] == metric)]
    if hit.empty:
        return ""
    return f" (AUC {hit['mean'].iloc[0]:.3f} ± {hit['std'].iloc[0]:.3f})"


@st.cache_resource(show_spinner=False, max_entries=FIGURES)
def roc_pr_figures(names: tuple[str, ...], results_dir: str, dataset: str) -> tuple[go.Figure, go.Figure]:
    table = results_table(names, results_dir)
    roc, pr = go.Figure(), go.Figure()
    roc.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash", "color": "grey"}))
    selected = [(model, c) for model, entries in curves_of(names, results_dir).items() for c in entries
                if c["task"] == "classification" and c["dataset"] == dataset]
    for i, (model, curve) in enumerate(selected):
        label, line = curve_label(model, curve), {"color": PALETTE[i % len(PALETTE)], "width": 2}
        fpr, tpr = report.thinned(curve["roc"]["fpr"], curve["roc"]["tpr"])
        recall, precision = report.thinned(curve["pr"]["recall"], curve["pr"]["precision"])
        roc.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", line=line,
                                 name=label + auc_text(table, model, curve, "roc_auc")))
        pr.add_trace(go.Scatter(x=recall, y=precision, mode="lines", line=line,
                                name=label + auc_text(table, model, curve, "pr_auc")))
    roc.update_layout(title="ROC", xaxis_title="False positive rate", yaxis_title="True positive rate",
                      height=480, legend=LEGEND_BELOW, margin={"t": 40})
    pr.update_layout(title="Precision–recall", xaxis_title="Recall", yaxis_title="Precision",
                     height=480, legend=LEGEND_BELOW, margin={"t": 40})
    for fig in (roc, pr):
        fig.update_xaxes(range=[-0.01, 1.01])
        fig.update_yaxes(range=[-0.01, 1.02])
    return roc, pr


def classification_datasets(names: tuple[str, ...], results_dir: str) -> list[str]:
    return list(dict.fromkeys(c["dataset"] for entries in curves_of(names, results_dir).values() for c in entries
                              if c["task"] == "classification"))


def roc_pr_section(names: tuple[str, ...], results_dir: str) -> None:
    """ROC and precision–recall curves of one test set at a time (every curve of every set at once is slow to
    draw)."""
    dataset = st.selectbox("Test set", classification_datasets(names, results_dir),
                           format_func=lambda d: DATASET_NAMES.get(d, d), key="roc_dataset", persist_state=KEPT)
    left, right = st.columns(2)
    for column, fig in zip((left, right), roc_pr_figures(names, results_dir, dataset), strict=True):
        column.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)


@st.cache_resource(show_spinner=False, max_entries=FIGURES)
def confusion_figure(matrix: tuple[tuple[int, ...], ...]) -> go.Figure:
    fig = px.imshow(matrix, text_auto=True, color_continuous_scale="Blues",
                    x=["not superconductor", "superconductor"], y=["not superconductor", "superconductor"],
                    labels={"x": "Predicted", "y": "Actual", "color": "count"})
    fig.update_layout(height=360, margin={"t": 20}, coloraxis_showscale=False)
    fig.update_traces(textfont={"size": 18})
    return fig


def confusion_section(names: tuple[str, ...], results_dir: str) -> None:
    options = {curve_label(model, c, datasets=True): c for model, c in scored_curves(curves_of(names, results_dir))}
    left, right = st.columns([1, 2])
    with left:
        key = st.selectbox("Test set", list(options), key="confusion_test_set", persist_state=KEPT)
        cut = st.slider("Probability threshold", 0.0, 1.0, 0.5, 0.01, key="confusion_cut", persist_state=KEPT,
                        help="A material counts as a predicted superconductor when its score is at least this.")
    curve = options[key]
    matrix = evaluate.confusion(curve["y_true"], curve["y_score"], cut)
    scores = evaluate.classification_metrics(curve["y_true"], curve["y_score"], cut)
    with left, st.container(horizontal=True):
        for metric in ("precision", "recall", "f1"):
            st.metric(METRIC_NAMES[metric], f"{scores[metric]:.3f}", help=f"At the threshold {cut:.2f}.")
    counts = tuple(tuple(int(n) for n in row) for row in matrix)
    right.plotly_chart(confusion_figure(counts), width="stretch", config=PLOT_CONFIG)


def split_key(curve: dict) -> tuple[str, str, float]:
    return curve["dataset"], curve["protocol"], curve["threshold_K"]


def scored_curves(curves: dict[str, list[dict]]) -> list[tuple[str, dict]]:
    """(model, curve) of every classification curve with its test labels and scores."""
    return [(model, c) for model, entries in curves.items() for c in entries
            if c["task"] == "classification" and c.get("y_true")]


@st.cache_resource(show_spinner=False, max_entries=FIGURES)
def calibration_figure(names: tuple[str, ...], results_dir: str, chosen: tuple[str, str, float]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                               line={"dash": "dash", "color": "grey"}))
    shown = [(model, c) for model, c in scored_curves(curves_of(names, results_dir)) if split_key(c) == chosen]
    for i, (model, curve) in enumerate(shown):
        bins = calibration.reliability(curve["y_true"], curve["y_score"])
        ece = calibration.expected_calibration_error(curve["y_true"], curve["y_score"])
        fig.add_trace(go.Scatter(x=bins["mean_p"], y=bins["frac_positive"], mode="lines+markers",
                                 name=f"{model} (ECE {ece:.3f})", customdata=bins["count"],
                                 line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                                 hovertemplate="mean predicted %{x:.2f}<br>observed %{y:.2f}<br>"
                                               "%{customdata} materials<extra></extra>"))
    fig.update_layout(xaxis_title="Mean predicted P(superconductor)", height=480, margin={"t": 20},
                      yaxis_title="Observed fraction of superconductors", legend=LEGEND_BELOW)
    fig.update_xaxes(range=[-0.01, 1.01], constrain="domain")
    fig.update_yaxes(range=[-0.01, 1.01], scaleanchor="x", constrain="domain")
    return fig


def calibration_section(names: tuple[str, ...], results_dir: str) -> None:
    scored = scored_curves(curves_of(names, results_dir))
    test_sets = {report.test_set_label(c["dataset"], c["protocol"], c["threshold_K"]):
                 split_key(c) for _, c in scored}
    left, right = st.columns([1, 2])
    with left:
        chosen = test_sets[st.selectbox("Test set", list(test_sets), key="calibration_test_set",
                                           persist_state=KEPT)]
        st.caption("Test materials grouped into ten equal-width bins of predicted probability: a calibrated "
                   "model's points lie on the diagonal (of the materials given 0.8, 80% superconduct). ECE: the "
                   "gap between prediction and observation, averaged over the bins weighted by their size.")
    right.plotly_chart(calibration_figure(names, results_dir, chosen), width="stretch", config=PLOT_CONFIG)


def parity_entries(names: tuple[str, ...], results_dir: str) -> list[tuple[str, dict, list[str] | None]]:
    """(model, Tc-regression curve, the formulas of its points) for every chosen model."""
    return [(model, c, formulas) for model in names
            for c, formulas in zip(load_curves(model, results_dir), parity_formulas(model, results_dir), strict=True)
            if c["task"] == "tc_regression"]


def parity_default(entries: list[tuple[str, dict, list[str] | None]]) -> list[str]:
    """The series shown at first: up to PARITY_SERIES models on one test split, the first grouped one if any."""
    splits = [split_key(c) for _, c, _ in entries]
    split = next((k for k in splits if k[1] == "grouped"), splits[0])
    return [curve_label(m, c, datasets=True) for m, c, _ in entries if split_key(c) == split][:PARITY_SERIES]


@st.cache_resource(show_spinner=False, max_entries=FIGURES)
def parity_figure(names: tuple[str, ...], results_dir: str, shown: frozenset[str]) -> go.Figure:
    fig = go.Figure()
    top = 0.0
    for i, (model, curve, formulas) in enumerate(parity_entries(names, results_dir)):
        label = curve_label(model, curve, datasets=True)
        if label not in shown:
            continue
        fig.add_trace(go.Scattergl(x=curve["tc_true"], y=curve["tc_pred"], mode="markers", opacity=0.45,
                                   marker={"size": 5, "color": PALETTE[i % len(PALETTE)]}, customdata=formulas,
                                   name=label, hovertemplate=("%{customdata}<br>" if formulas else "") +
                                   "measured %{x:.1f} K<br>predicted %{y:.1f} K"))
        top = max([top, *curve["tc_true"], *curve["tc_pred"]])
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="y = x",
                             line={"dash": "dash", "color": "grey"}))
    fig.update_layout(xaxis_title="Measured Tc (K)", yaxis_title="Predicted Tc (K)", height=560,
                      margin={"t": 20})
    fig.update_yaxes(scaleanchor="x")
    return fig


def parity_section(names: tuple[str, ...], results_dir: str) -> None:
    entries = parity_entries(names, results_dir)
    st.caption("Measured against predicted Tc of the superconductors in each test split.")
    labels = [curve_label(model, curve, datasets=True) for model, curve, _ in entries]
    shown = st.multiselect("Series", labels, default=parity_default(entries), key="parity_series", persist_state=KEPT,
                           help="Each model on each test split; a few at a time stay readable.")
    st.plotly_chart(parity_figure(names, results_dir, frozenset(shown)), width="stretch", config=PLOT_CONFIG)


def plots(names: tuple[str, ...], results_dir: str) -> None:
    """The plots in tabs that run lazily: only the open tab is computed and drawn (six charts at once took
    seconds to draw), and the open tab is kept in the URL (``?plot=…``)."""
    scored = bool(scored_curves(curves_of(names, results_dir)))
    sections = {
        "ROC and precision–recall": (roc_pr_section, bool(classification_datasets(names, results_dir))),
        "Against the Tc threshold": (threshold_section, not swept_table(results_table(names, results_dir)).empty),
        "Confusion matrix": (confusion_section, scored),
        "Calibration": (calibration_section, scored),
        "Tc parity": (parity_section, bool(parity_entries(names, results_dir))),
    }
    shown = {label: section for label, (section, applies) in sections.items() if applies}
    if not shown:
        return
    st.subheader("Plots")
    for tab, section in zip(st.tabs(list(shown), key="plot", bind="query-params"), shown.values(), strict=True):
        if tab.open:
            with tab:
                section(names, results_dir)


st.title("Model performance")
st.caption(report.PROTOCOLS_TEXT)

RESULTS_DIR = paths.folder("SC_RESULTS_DIR", "benchmarks/results")
results_dir = str(RESULTS_DIR)
names = [name for name in models.available() if load_results(name, results_dir)]
if not names:
    st.info(f"No benchmark results found in {RESULTS_DIR}. Run `make evaluate` to compute them.")
    st.stop()

chosen = st.multiselect("Models", names, default=names)
if not chosen:
    st.info("Pick at least one model above to see its results.")
    st.stop()
for name in chosen:
    result = load_results(name, results_dir)
    note = f"`{name}`: version {result.get('version', '?')}, data {str(result.get('data_hash', '?'))[:12]}"
    if result.get("limit"):
        note += f". Quick check on a subsample of {result['limit']} rows per dataset, not the published numbers."
    st.caption(note)

names_chosen = tuple(chosen)
st.subheader("Metrics")
metric_tables(names_chosen, results_dir)
plots(names_chosen, results_dir)
