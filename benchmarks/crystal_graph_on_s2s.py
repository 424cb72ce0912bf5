"""The crystal-graph network (trained on 3DSC) scored on the S2S labels: ``python benchmarks/crystal_graph_on_s2s.py``.

An external test of its classification head: the S2S crystals whose reduced formula does not occur in 3DSC
(so neither the structure nor a doped variant was trained on). Prints accuracy and ROC-AUC of P(superconductor)
and the share of non-superconductors given P ≥ 0.5, overall and for crystals without a transition metal
(ionic and main-group compounds, which 3DSC's Tc = 0 entries rarely cover).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score

from sc_core import data, models


def main() -> None:
    model = models.load("crystal_graph")
    s2s = data.load_s2s()
    unseen = s2s[~s2s["reduced_formula"].isin(set(data.load_3dsc()["reduced_formula"]))].reset_index(drop=True)
    structures = [data.s2s_structures()[i] for i in unseen["id"]]
    p = model.predict(structures)["p_sc"].to_numpy(dtype=float)
    y = unseen["label"].to_numpy() == 1
    metallic = np.array([any(el.is_transition_metal for el in s.composition) for s in structures])
    print(f"{model.name} ({model.version}) on {len(unseen)} S2S crystals whose formula is not in 3DSC "
          f"({y.sum()} superconductors)")
    for name, rows in (("all", np.ones(len(y), bool)), ("with a transition metal", metallic),
                       ("without a transition metal", ~metallic)):
        yy, pp = y[rows], p[rows]
        auc = roc_auc_score(yy, pp) if len(set(yy)) == 2 else float("nan")
        print(f"  {name} (n = {rows.sum()}, {yy.sum()} superconductors): accuracy {accuracy_score(yy, pp >= 0.5):.3f}, "
              f"ROC-AUC {auc:.3f}, non-superconductors with P ≥ 0.5: {(pp[~yy] >= 0.5).mean():.1%}")


if __name__ == "__main__":
    main()
