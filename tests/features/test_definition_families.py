"""One module per feature family, each holding only its family, all registered exactly once."""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from types import ModuleType

import pytest

import features.definitions as registry
from features.definitions import FAMILIES, FEATURE_NAMES, FEATURES, Feature, feature

SHARED = {"base"}  # modules of the package that hold no family
N_FEATURES = 102


def family_modules() -> list[ModuleType]:
    """Every family module in the package folder, whether the registry imports it or not."""
    names = sorted(m.name for m in pkgutil.iter_modules(registry.__path__))
    return [
        importlib.import_module(f"{registry.__name__}.{name}")
        for name in names
        if name not in SHARED
    ]


def feature_blocks(module: ModuleType) -> dict[str, tuple[Feature, ...]]:
    """Every module-level tuple of features (`FEATURES` and the blocks it is made of)."""
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, tuple) and value and all(isinstance(v, Feature) for v in value)
    }


def misplaced(module: ModuleType) -> list[str]:
    """Features a family module holds that are not of its `FAMILY` or not in its `FEATURES`."""
    problems = []
    for block, members in feature_blocks(module).items():
        for f in members:
            if f.family != module.FAMILY:
                problems.append(f"{module.__name__}.{block}: {f.name} is of family {f.family}")
            if f not in module.FEATURES:
                problems.append(f"{module.__name__}.{block}: {f.name} is not in FEATURES")
    return problems


@pytest.mark.parametrize("module", family_modules(), ids=lambda m: m.__name__.rsplit(".")[-1])
def test_family_module_defines_only_its_family(module: ModuleType) -> None:
    assert isinstance(module.FAMILY, str) and module.FAMILY
    assert module.FEATURES, f"{module.__name__} defines no features"
    assert misplaced(module) == []


def test_a_feature_in_the_wrong_module_is_caught() -> None:
    stray = ModuleType("features.definitions.stray")
    stray.__dict__.update(FAMILY="usage", FEATURES=(feature("events_30d"), feature("nps_latest")))
    assert misplaced(stray) == [
        "features.definitions.stray.FEATURES: nps_latest is of family nps",
    ]


def test_registry_imports_every_family_module_once() -> None:
    on_disk = {m.__name__ for m in family_modules()}
    registered = [m.__name__ for m in registry.FAMILY_MODULES]
    assert sorted(registered) == sorted(on_disk)
    families = [m.FAMILY for m in registry.FAMILY_MODULES]
    assert len(families) == len(set(families)), "two modules declare the same family"
    assert set(FAMILIES) == set(families)


def test_registry_holds_every_family_feature_once() -> None:
    defined = Counter(f.name for m in registry.FAMILY_MODULES for f in m.FEATURES)
    assert Counter(FEATURE_NAMES) == defined
    by_family = {m.FAMILY: m for m in registry.FAMILY_MODULES}
    for f in FEATURES:
        assert f in by_family[f.family].FEATURES, f"{f.name} is not from its family's module"


def test_feature_names_are_unique() -> None:
    duplicated = [name for name, n in Counter(FEATURE_NAMES).items() if n > 1]
    assert duplicated == []


def test_registry_holds_all_features() -> None:
    assert len(FEATURES) == len(FEATURE_NAMES) == N_FEATURES
    assert all(feature(f.name) is f for f in FEATURES)
