"""deploy/requirements-serve.txt is current: exactly the serving install's packages (the closure of
pyproject.toml's dependencies, no extras), each pinned to a version every requirement on it
accepts and that this environment runs the tests with. `make lock` rewrites it."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "deploy" / "requirements-serve.txt"
NOT_SERVED = {"torch", "onnx", "seqeval", "scikit-learn", "scipy", "wordfreq"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, Version]:
    pinned = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[canonical(name)] = Version(version)
    return pinned


def closure() -> dict[str, list[Requirement]]:
    """Every package the serving install brings, with the requirements on it, read from the
    installed packages' metadata (markers evaluated here: Linux, CPython 3.11, as the image)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [(Requirement(r), "slot-tagger") for r in project["dependencies"]]
    found: dict[str, list[Requirement]] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, _ = todo.pop()
        name = canonical(requirement.name)
        found.setdefault(name, []).append(requirement)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            raise AssertionError(f"{name} is not installed here: run `make install`") from None
        for line in requires:
            child = Requirement(line)
            extras = requirement.extras or {""}
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                todo.append((child, name))
    return found


def test_the_lock_pins_exactly_the_serving_install() -> None:
    needed, pinned = closure(), pins()
    assert sorted(set(needed) - set(pinned)) == [], "not pinned: run `make lock`"
    assert sorted(set(pinned) - set(needed)) == [], "pinned but not needed: run `make lock`"


def test_every_pin_satisfies_what_requires_it_and_is_what_the_tests_run() -> None:
    pinned = pins()
    for name, requirements in closure().items():
        for requirement in requirements:
            assert requirement.specifier.contains(pinned[name], prereleases=True), (
                f"{name}=={pinned[name]} does not satisfy {requirement}: run `make lock`"
            )
        assert Version(distribution(name).version) == pinned[name], (
            f"{name} {distribution(name).version} is installed, the lock has {pinned[name]}: "
            "run `make install` (or `make lock`)"
        )


def test_serving_needs_no_torch_onnx_seqeval_or_scikit_learn() -> None:
    assert NOT_SERVED & set(pins()) == set()
