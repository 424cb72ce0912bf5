"""sc_core.train: the training sets behind the committed checkpoints."""

from sc_core import data
from sc_core.data import deployed_training_set
from sc_core.models.s2snet import pretraining_corpus


def test_pretraining_corpus_holds_no_s2s_formula():
    names = set(pretraining_corpus())
    dsc = data.load_3dsc()
    used = dsc[dsc["cif_name"].isin(names)]
    assert len(used) == len(names) > 5000
    assert not set(used["reduced_formula"]) & set(data.load_s2s()["reduced_formula"])


def test_deployed_training_set_leaves_out_the_hosono_list():
    comps, tc, described = deployed_training_set()
    hosono = set(data.load_hosono(2018)["comp_key"])
    supercon = data.load_supercon()
    assert described["supercon_rows"] == int((~supercon["comp_key"].isin(hosono)).sum())
    assert len(comps) == len(tc) == described["supercon_rows"] + described["garbage_in_rows"]
    assert (tc[described["supercon_rows"]:] == 0).all()  # garbage-in rows are non-superconductors
