"""The S2SNet paper's Fig. 7 cases with our checkpoint: ``python benchmarks/fig7_attribution.py [--model s2snet]``.

For BaFe2S3, H3S (the S2S crystal, space group Cm, and the Im-3m cell built by ``attribution.h3s_im3m``)
and Sr2CuClO2: the predicted P(superconductor), then each element's summed and mean contribution to the
superconductor logit by every attribution method the model offers. The paper reads Fe as the key atom of
BaFe2S3, H and S (the H nearer S more) of H3S, and Cu and O of Sr2CuClO2. For H3S, each H site's
contribution is also printed beside its distance to the nearest S.

Sites that the space group makes equivalent should get equal contributions; for each method the largest
spread (max − min) within a set of equivalent sites is printed beside the spread over all sites. A large
ratio exposes an artefact of the model's inputs (ties among the k nearest neighbours broken by order; the
distance to the cell centroid, which depends on the choice of origin).
"""

from __future__ import annotations

import argparse

import numpy as np

from sc_core import attribution, data, models


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/fig7_attribution.py")
    parser.add_argument("--model", default="s2snet")
    args = parser.parse_args()
    model = models.load(args.model)
    s2s = data.load_s2s().set_index("reduced_formula")
    cases = [(f, data.s2s_structures()[s2s.loc[f, "id"]], f"S2S {s2s.loc[f, 'id']}") for f in attribution.FIG7_EXAMPLES]
    cases.insert(2, ("H3S", attribution.h3s_im3m(), "built, Im-3m"))
    print(f"model {args.model} ({model.version})")
    for formula, structure, source in cases:
        pred = model.predict([structure]).iloc[0]
        print(f"\n{formula} ({source}, {len(structure)} sites): P(sc) {pred['p_sc']:.3f} ± {pred['p_sc_std']:.3f}, "
              f"Tc {pred['tc_K']:.1f} ± {pred['tc_std_K']:.1f} K")
        for method in model.attribution_methods:
            sites = attribution.site_contributions(model, structure, method)
            summary = attribution.element_summary(sites)
            shown = ", ".join(f"{r.element} {r.total:+.3f} (mean {r.mean:+.3f}, {r.sites} sites)"
                              for r in summary.itertuples())
            within, overall = attribution.symmetry_spread(sites)
            print(f"  {method}: {shown}")
            print(f"    {sites['equivalent_set'].nunique()} sets of equivalent sites: largest spread within a set "
                  f"{within:.4f}, "
                  f"over all sites {overall:.4f}")
            if formula == "H3S":
                s_sites = [i for i, e in enumerate(sites["element"]) if e == "S"]
                for i in np.flatnonzero(sites["element"] == "H"):
                    nearest = min(structure.get_distance(i, j) for j in s_sites)
                    print(f"    H site {i}: nearest S {nearest:.3f} Å, contribution {sites['contribution'][i]:+.4f}")


if __name__ == "__main__":
    main()
