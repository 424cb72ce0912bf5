"""Element embeddings: the per-element vectors a model uses, as a correlation map and a t-SNE map."""

from __future__ import annotations

from pathlib import Path

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from sc_core import embeddings, models, paths, thresholds
from views._common import PLOT_CONFIG, get_model, unexpected_error

COLOUR_BY = {"block": "Block", "group": "Group", "period": "Period",
             "frequency": "Share of predicted superconductors"}
BLOCK_COLOURS = {"s": "#e6550d", "p": "#31a354", "d": "#3182bd", "f": "#9e59c2"}
CORRELATION_SCALE = "PRGn"  # purple (anti-correlated) to green: not the red/blue of the contribution maps


@st.cache_data(show_spinner=False)
def element_vectors(name: str, stage: str | None = None):
    return get_model(name).element_vectors(stage)


@st.cache_data(show_spinner="Computing correlations…")
def pearson(name: str, stage: str | None):
    return embeddings.pearson(element_vectors(name, stage))


@st.cache_data(show_spinner="Computing the t-SNE map…")
def tsne(name: str, stage: str | None, results_dir: str):
    return embeddings.tsne_map(get_model(name), stage, Path(results_dir))  # stored by make embeddings


@st.cache_data(show_spinner="Predicting the S2S crystals…")
def frequency(name: str, results_dir: str):
    return embeddings.frequency_map(get_model(name), Path(results_dir))


def heatmap(corr) -> go.Figure:
    symbols = list(corr.index)
    fig = go.Figure(go.Heatmap(
        z=corr.to_numpy(), x=symbols, y=symbols, colorscale=CORRELATION_SCALE, zmin=-1, zmax=1,
        colorbar={"title": {"text": "Correlation<br>(Pearson r)"}},
        hovertemplate="%{y} – %{x}: r = %{z:.2f}<extra></extra>",
    ))
    fig.update_xaxes(tickfont={"size": 8}, tickangle=-90, dtick=1, side="bottom")
    fig.update_yaxes(tickfont={"size": 8}, dtick=1, autorange="reversed", scaleanchor="x")
    fig.update_layout(height=820, margin={"l": 40, "r": 20, "t": 30, "b": 40})
    return fig


def tsne_scatter(points, colour: str) -> go.Figure:
    points = points.reset_index(names="symbol")
    discrete = colour == "block"
    if not discrete:
        points = points.assign(**{colour: points[colour].astype("Float64")})
    fig = px.scatter(
        points, x="x", y="y", text="symbol", color=colour, hover_name="name",
        hover_data={"symbol": False, "x": False, "y": False, "group": True, "period": True, "block": True,
                    **({"frequency": ":.1%"} if colour == "frequency" else {})},
        color_continuous_scale="Viridis", category_orders={"block": ["s", "p", "d", "f"]},
        color_discrete_map=BLOCK_COLOURS,
        labels={colour: COLOUR_BY[colour]},
    )
    fig.update_traces(marker={"size": 10, "opacity": 0.8}, textposition="top center", textfont={"size": 11})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=620, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


st.title("Element embeddings")
st.markdown("Each model describes an element by a vector: tabulated properties for the baseline, learned "
            "embeddings for neural models. Elements with similar vectors are treated alike by the model.")

try:
    names = [name for name in models.available() if element_vectors(name) is not None]
except Exception:
    unexpected_error("Sorry, the element vectors could not be loaded.")
    st.stop()
if not names:
    st.info("No trained model exposes element vectors yet.")
    st.stop()

name = st.selectbox("Model", names)
stages = get_model(name).embedding_stages
stage = st.radio("Embeddings", stages, horizontal=True,
                 help="After masked-atom pretraining, or after fine-tuning on the labels.") if stages else None
vectors = element_vectors(name, stage)
st.caption(f"{len(vectors)} elements × {vectors.shape[1]} dimensions.")

st.subheader("Pearson correlation between element vectors")
st.caption("Elements are in Mendeleev order, so chemically similar elements sit next to each other; blocks of "
           "green along the diagonal are families the model sees as alike (purple: anti-correlated). These colours "
           "are correlations, not the red/blue contributions of the other pages.")
st.plotly_chart(heatmap(pearson(name, stage)), width="stretch", config=PLOT_CONFIG)

st.subheader("t-SNE map")
colour = st.segmented_control("Colour by", list(COLOUR_BY), format_func=COLOUR_BY.get, default="block",
                              required=True)
results_dir = str(paths.folder("SC_RESULTS_DIR", "benchmarks/results"))
points = tsne(name, stage, results_dir)
if colour == "frequency":
    points = points.assign(frequency=frequency(name, results_dir))
    st.caption("Colour: the share of the bundled S2S crystals this model predicts to superconduct (P at or above "
               f"its decision threshold, {thresholds.of(get_model(name).card):.2f}) that contain the element.")
st.plotly_chart(tsne_scatter(points, colour), width="stretch", config=PLOT_CONFIG)
st.caption("A 2-D map in which nearby elements have similar vectors. Distances between distant clusters are not "
           "meaningful in t-SNE.")
