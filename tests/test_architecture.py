"""Dependencies point one way: model imports nothing of ours; app uses model only (STYLE.md B3)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"app", "model", "data", "training"}
ALLOWED = {"model": set(), "data": {"model"}, "training": {"model", "data"}, "app": {"model"}}


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_packages_import_only_what_they_may() -> None:
    offences = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module in imports_of(path):
                top = module.split(".")[0]
                if top in OURS and top != package and top not in allowed:
                    offences.append(f"{path.relative_to(ROOT)}:{line} import {module}")
    assert offences == []
