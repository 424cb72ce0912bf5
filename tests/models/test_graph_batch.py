"""graph_batch: the composition channel's standardisation."""

import torch
from pymatgen.core import Composition
from toy_structures import toy_structures

from sc_core.featurize.graph import crystal_graph
from sc_core.models.graph_batch import CompositionChannel, collate


def test_composition_channel_only_centres_descriptors_constant_in_training():
    structures, _ = toy_structures(4)
    rock_salt = [s for s in structures if s.composition.reduced_composition == Composition("FeO")]
    channel = CompositionChannel(members=2, out=4)
    channel.standardise_on([crystal_graph(s, descriptors=True) for s in rock_salt])  # every descriptor constant
    assert torch.equal(channel.std, torch.ones_like(channel.std))
    alloy = collate([crystal_graph(structures[1], descriptors=True)])  # Nb-Ti: another value of every descriptor
    expected = torch.nn.functional.softplus(channel.linear(alloy.descriptors - channel.mean))
    torch.testing.assert_close(channel(alloy), expected)
