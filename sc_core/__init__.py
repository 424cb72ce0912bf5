"""sc_core: machine-learning-guided superconductor discovery.

Data flows one way: inputs (:mod:`sc_core.io`) → bundled data (:mod:`sc_core.data`) → features
(:mod:`sc_core.featurize`) → models (:mod:`sc_core.models`) → evaluation, attribution, screening.
"""

import warnings

from sc_core.io import InputError

# pymatgen warns for every noble gas when it orders a formula by electronegativity; harmless here.
warnings.filterwarnings("ignore", message="No Pauling electronegativity")

__all__ = ["InputError"]
__version__ = "0.1.0"
