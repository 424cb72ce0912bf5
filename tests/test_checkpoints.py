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
