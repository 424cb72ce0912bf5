"""views/element_embeddings.py: correlation heatmap and t-SNE map."""

import json

import plotly.colors
from page_helpers import app

from sc_core import viewer


def figures(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_heatmap_and_tsne():
    at = app("views/element_embeddings.py").run()
    assert not at.exception
    heatmap, scatter = figures(at)
    trace = heatmap["data"][0]
    assert trace["type"] == "heatmap"
    assert trace["zmin"] == -1 and trace["zmax"] == 1
    assert trace["x"][:3] == ["Li", "Na", "K"]  # Mendeleev order
    assert len(trace["x"]) == len(trace["y"]) > 80
    n = len(trace["x"])
    z = trace["z"]  # plotly 7 sends arrays base64-encoded
    assert (z["shape"] if isinstance(z, dict) else f"{len(z)}, {len(z[0])}") == f"{n}, {n}"
    assert scatter["data"][0]["type"] == "scatter"
    assert "Hydrogen" in json.dumps(scatter["data"])  # hover names


def test_correlation_colours_are_not_the_contribution_colours():
    at = app("views/element_embeddings.py").run()
    trace = figures(at)[0]["data"][0]
    contribution = {c for _, c in plotly.colors.get_colorscale(viewer.CONTRIBUTION_SCALE)}
    correlation = [c for _, c in trace["colorscale"]]
    assert correlation == [c for _, c in plotly.colors.get_colorscale("PRGn")]  # purple to green
    assert contribution & set(correlation) == {"rgb(247,247,247)"}  # the neutral middle only: no red or blue
    assert "Correlation" in trace["colorbar"]["title"]["text"]
    assert any("green along the diagonal" in c.value and "not the red/blue" in c.value for c in at.caption)


def test_colour_by_group_and_period():
    at = app("views/element_embeddings.py").run()
    for colour in ("group", "period"):
        at.segmented_control[0].set_value(colour).run()
        assert not at.exception
        assert len(figures(at)) == 2


def test_colour_by_share_of_predicted_superconductors():
    at = app("views/element_embeddings.py").run()
    at.segmented_control[0].set_value("frequency").run()
    assert not at.exception
    scatter = figures(at)[1]
    assert scatter["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "Share of predicted superconductors"
    assert any("S2S crystals" in c.value for c in at.caption)


def test_s2snet_embeddings_after_pretraining_and_fine_tuning():
    at = app("views/element_embeddings.py").run()
    at.selectbox[0].set_value("s2snet").run()
    assert not at.exception
    assert at.radio[0].options == ["fine-tuned", "pretrained"]
    fine_tuned = figures(at)[0]["data"][0]["z"]
    at.radio[0].set_value("pretrained").run()
    assert not at.exception
    assert figures(at)[0]["data"][0]["z"] != fine_tuned  # a different correlation map
