"""Textbook crystals: plain insulators that do not superconduct and well-known superconductors, built from their
prototypes with pymatgen (issue #15's sanity set: every model should give the first P < 0.1, the second P ≥ 0.9).

Lattice constants and free coordinates are rounded room-temperature literature values. Sources: the simple
prototypes as tabulated in R. W. G. Wyckoff, *Crystal Structures*, Vol. 1, 2nd ed. (Interscience, 1963); the
superconductors after the papers named beside them. These are sanity checks, not a training or test split.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymatgen.core import Composition, Lattice, Structure

WYCKOFF_1963 = "Wyckoff, Crystal Structures vol. 1 (1963)"


@dataclass(frozen=True)
class Crystal:
    name: str
    prototype: str
    space_group: str  # Hermann-Mauguin symbol pymatgen builds the structure in
    lattice: tuple[float, ...]  # a (cubic); a, c (hexagonal, tetragonal); a, b, c (orthorhombic), in Å
    species: tuple[str | Composition, ...]  # an element, or a mixed site as a Composition
    coords: tuple[tuple[float, float, float], ...]  # fractional, one per species (the asymmetric unit)
    superconductor: bool
    source: str


def _cubic(name: str, prototype: str, group: str, a: float, species, coords, source: str = WYCKOFF_1963,
           superconductor: bool = False) -> Crystal:
    return Crystal(name, prototype, group, (a,), tuple(species), tuple(coords), superconductor, source)


ROCK_SALT, FLUORITE, CSCL = ((0, 0, 0), (0.5, 0.5, 0.5)), ((0, 0, 0), (0.25, 0.25, 0.25)), ((0, 0, 0), (0.5, 0.5, 0.5))
ZINC_BLENDE = ((0, 0, 0), (0.25, 0.25, 0.25))

CRYSTALS: tuple[Crystal, ...] = (
    _cubic("NaCl", "rock-salt", "Fm-3m", 5.640, ("Na", "Cl"), ROCK_SALT),
    _cubic("KCl", "rock-salt", "Fm-3m", 6.293, ("K", "Cl"), ROCK_SALT),
    _cubic("LiF", "rock-salt", "Fm-3m", 4.027, ("Li", "F"), ROCK_SALT),
    _cubic("MgO", "rock-salt", "Fm-3m", 4.212, ("Mg", "O"), ROCK_SALT),
    _cubic("CaF2", "fluorite", "Fm-3m", 5.463, ("Ca", "F"), FLUORITE),
    _cubic("BaF2", "fluorite", "Fm-3m", 6.200, ("Ba", "F"), FLUORITE),
    _cubic("ZnS", "zinc-blende", "F-43m", 5.409, ("Zn", "S"), ZINC_BLENDE),
    _cubic("GaP", "zinc-blende", "F-43m", 5.451, ("Ga", "P"), ZINC_BLENDE),
    _cubic("CsCl", "CsCl-type", "Pm-3m", 4.123, ("Cs", "Cl"), CSCL),
    _cubic("CsBr", "CsCl-type", "Pm-3m", 4.296, ("Cs", "Br"), CSCL),
    _cubic("KMgF3", "cubic perovskite", "Pm-3m", 3.973, ("K", "Mg", "F"),
           ((0.5, 0.5, 0.5), (0, 0, 0), (0.5, 0, 0))),
    Crystal("Al2O3", "corundum", "R-3c", (4.759, 12.991), ("Al", "O"), ((0, 0, 0.3523), (0.3064, 0, 0.25)), False,
            WYCKOFF_1963),
    Crystal("TiO2", "rutile", "P4_2/mnm", (4.594, 2.959), ("Ti", "O"), ((0, 0, 0), (0.3048, 0.3048, 0)), False,
            WYCKOFF_1963),
    Crystal("ZnO", "wurtzite", "P6_3mc", (3.250, 5.207), ("Zn", "O"), ((1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.3825)),
            False, WYCKOFF_1963),
    Crystal("AlN", "wurtzite", "P6_3mc", (3.111, 4.978), ("Al", "N"), ((1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.382)),
            False, WYCKOFF_1963),
    Crystal("SiO2", "alpha-quartz", "P3_221", (4.913, 5.405), ("Si", "O"),
            ((0.4697, 0, 2 / 3), (0.4135, 0.2669, 0.7858)), False, WYCKOFF_1963),
    Crystal("MgB2", "AlB2-type", "P6/mmm", (3.086, 3.524), ("Mg", "B"), ((0, 0, 0), (1 / 3, 2 / 3, 0.5)), True,
            "Nagamatsu et al., Nature 410, 63 (2001)"),
    _cubic("Nb3Sn", "A15", "Pm-3n", 5.289, ("Nb", "Sn"), ((0.25, 0, 0.5), (0, 0, 0)),
           "Matthias et al., Phys. Rev. 95, 1435 (1954); A15 prototype after Wyckoff (1963)", True),
    _cubic("NbN", "rock-salt", "Fm-3m", 4.392, ("Nb", "N"), ROCK_SALT, WYCKOFF_1963, True),
    Crystal("YBa2Cu3O7", "orthorhombic 123", "Pmmm", (3.82, 3.89, 11.68),
            ("Y", "Ba", "Cu", "Cu", "O", "O", "O", "O"),
            ((0.5, 0.5, 0.5), (0.5, 0.5, 0.184), (0, 0, 0), (0, 0, 0.355), (0, 0.5, 0), (0.5, 0, 0.378),
             (0, 0.5, 0.377), (0, 0, 0.158)), True,
            "Wu et al., Phys. Rev. Lett. 58, 908 (1987); typical refined coordinates of orthorhombic YBa2Cu3O7"),
    Crystal("LaFeAsO0.9F0.1", "ZrCuSiAs-type", "P4/nmm", (4.03, 8.74),
            ("La", "Fe", "As", Composition({"O": 0.9, "F": 0.1})),
            ((0.25, 0.25, 0.142), (0.75, 0.25, 0.5), (0.25, 0.25, 0.651), (0.75, 0.25, 0)), True,
            "Kamihara et al., J. Am. Chem. Soc. 130, 3296 (2008); coordinates in origin choice 2"),
)


def structure(crystal: Crystal) -> Structure:
    """The crystal built from its space group and asymmetric unit."""
    lengths = crystal.lattice
    if len(lengths) == 3:
        lattice = Lattice.orthorhombic(*lengths)
    elif len(lengths) == 1:
        lattice = Lattice.cubic(lengths[0])
    elif crystal.space_group.startswith(("P6", "P3", "R")):
        lattice = Lattice.hexagonal(lengths[0], lengths[1])
    else:
        lattice = Lattice.tetragonal(lengths[0], lengths[1])
    if crystal.space_group == "P4/nmm":  # pymatgen's P4/nmm is origin choice 1: write out origin choice 2's sites
        sites = [(sp, xyz) for sp, (x, y, z) in zip(crystal.species, crystal.coords)
                 for xyz in ((x, y, z), ((x + 0.5) % 1, (y + 0.5) % 1, -z % 1))]
        return Structure(lattice, [sp for sp, _ in sites], [xyz for _, xyz in sites])
    return Structure.from_spacegroup(crystal.space_group, lattice, list(crystal.species), list(crystal.coords))


def textbook_crystals() -> list[tuple[Crystal, Structure]]:
    """Every textbook crystal with its structure."""
    return [(crystal, structure(crystal)) for crystal in CRYSTALS]
