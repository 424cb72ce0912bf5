import json
import warnings

import numpy as np
import pytest

from sc_core import checkpoints


def test_round_trip_and_tamper_detection(tmp_path):
    checkpoints.save("toy", {"w": np.arange(5.0)}, {"version": "v1"}, root=tmp_path)
    arrays, card = checkpoints.load("toy", root=tmp_path)
    np.testing.assert_array_equal(arrays["w"], np.arange(5.0))
    assert card["version"] == "v1" and "numpy" in card["versions"]
    checkpoints.update_card("toy", root=tmp_path, metrics=[{"acc": 0.9}])
    assert checkpoints.read_card("toy", root=tmp_path)["metrics"] == [{"acc": 0.9}]
    np.savez_compressed(tmp_path / "toy" / checkpoints.WEIGHTS, w=np.zeros(5))
    with pytest.raises(checkpoints.CheckpointError, match="sha256"):
        checkpoints.load("toy", root=tmp_path)


def test_missing_checkpoint_explains_how_to_train(tmp_path):
    with pytest.raises(checkpoints.CheckpointError, match="sc_core.train"):
        checkpoints.read_card("nothing", root=tmp_path)


def _card_path(root):
    return root / "toy" / checkpoints.CARD


def _edit_card(root, **fields):
    card = json.loads(_card_path(root).read_text())
    _card_path(root).write_text(json.dumps({**card, **fields}))


def test_card_without_the_weights_in_its_file_list_is_refused(tmp_path):
    checkpoints.save("toy", {"w": np.arange(5.0)}, {}, root=tmp_path)
    np.savez_compressed(tmp_path / "toy" / checkpoints.WEIGHTS, w=np.zeros(5))  # tampered weights
    _edit_card(tmp_path, files={})  # used to skip verification and load them
    with pytest.raises(checkpoints.CheckpointError, match="does not list weights.npz"):
        checkpoints.load("toy", root=tmp_path)


@pytest.mark.parametrize(("text", "message"), [("{not json", "not valid JSON"), ("[1, 2]", "not a checkpoint card")])
def test_bad_card_json_is_a_checkpoint_error(tmp_path, text, message):
    checkpoints.save("toy", {"w": np.arange(5.0)}, {}, root=tmp_path)
    _card_path(tmp_path).write_text(text)
    with pytest.raises(checkpoints.CheckpointError, match=message):
        checkpoints.load("toy", root=tmp_path)


def test_card_missing_keys_is_a_checkpoint_error(tmp_path):
    checkpoints.save("toy", {"w": np.arange(5.0)}, {}, root=tmp_path)
    card = json.loads(_card_path(tmp_path).read_text())
    del card["files"]
    _card_path(tmp_path).write_text(json.dumps(card))
    with pytest.raises(checkpoints.CheckpointError, match="lacks files"):
        checkpoints.load("toy", root=tmp_path)


def test_expected_shapes(tmp_path):
    checkpoints.save("toy", {"w": np.zeros((3, 4))}, {}, root=tmp_path)
    arrays, _ = checkpoints.load("toy", root=tmp_path, shapes={"w": (3, 4)})
    assert arrays["w"].shape == (3, 4)
    with pytest.raises(checkpoints.CheckpointError, match=r"array 'w' has shape \(3, 4\), the model expects \(3, 5\)"):
        checkpoints.load("toy", root=tmp_path, shapes={"w": (3, 5)})
    with pytest.raises(checkpoints.CheckpointError, match="has no array 'bias'"):
        checkpoints.load("toy", root=tmp_path, shapes={"bias": (4,)})


def test_other_library_versions_warn_but_load(tmp_path):
    checkpoints.save("toy", {"w": np.arange(5.0)}, {}, root=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same versions: no warning
        checkpoints.load("toy", root=tmp_path)
    card = json.loads(_card_path(tmp_path).read_text())
    _edit_card(tmp_path, versions={**card["versions"], "numpy": "1.2.3"})
    with pytest.warns(UserWarning, match=r"numpy 1\.2\.3 \(running .*\).*sc train toy.*install the recorded"):
        arrays, _ = checkpoints.load("toy", root=tmp_path)
    np.testing.assert_array_equal(arrays["w"], np.arange(5.0))
