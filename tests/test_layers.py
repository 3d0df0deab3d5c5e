"""Arrows point down: the package's imports, read from its source with ``ast``, follow the layering rules.

Rules (issue 16, "arrows point down"):

1. ``io`` imports no other namespace (``pp``, ``models``, ``tl``, ``get``, ``pl``, ``export``, ``report``,
   ``pipeline``, ``cli``, ``datasets``): readers sit below everything that uses them.
2. The shared modules import no namespace at all: those below ``io`` and ``pp`` (``barcodes``, ``samples``,
   ``store``, ``_text``, ``_segments``, ``_mutations``, ``_clinical``) and ``_style`` (palettes and axes style of
   ``pl`` and the report).
3. No module imports another namespace's private module or a private name from another namespace
   (``from ..pp._transforms import ...`` inside ``io``, ``from ..store import _helper`` inside ``pp``).
   Top-level private modules (``_keys``, ``_errors``, ``_text``, ...) are the shared base and may be imported
   by anyone.
4. No import cycle between files, counting imports inside functions too.

Every import is checked, at module level and inside functions; nothing is skipped, and no violation is allowed
(the allow-list of issue 16 is gone: the report uses ``hm.pl`` / ``hm.tl``, the clinical helpers are shared).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "harmonomics"
PACKAGE = "harmonomics"

NAMESPACES = ("io", "pp", "models", "tl", "get", "pl", "export", "report", "pipeline", "cli", "datasets")
SHARED_BELOW_IO = ("barcodes", "samples", "store", "_text", "_segments", "_mutations", "_clinical", "_style")


def _modules() -> dict[str, tuple[Path, bool]]:
    """``{dotted module name: (file, is_package)}`` for every file of the package."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()


def _imports() -> list[tuple[str, str, str | None, int]]:
    """Every import of a package module: (importer, imported module, imported name or None, line)."""
    found = []
    for module, (path, is_package) in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(module, a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == PACKAGE]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    if (node.module or "").split(".")[0] != PACKAGE:
                        continue
                    target = node.module
                else:
                    here = module.split(".") if is_package else module.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    target = ".".join(here + ([node.module] if node.module else []))
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    if submodule in MODULES:
                        found.append((module, submodule, None, node.lineno))
                    else:
                        found.append((module, target, alias.name, node.lineno))
    return found


IMPORTS = _imports()


def _namespace(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_private_in_namespace(module: str) -> bool:
    """``harmonomics.tl._signatures`` is private to ``tl``; ``harmonomics._keys`` is the shared base."""
    return any(part.startswith("_") for part in module.split(".")[2:])


def _private_imports(imports=IMPORTS) -> set[tuple[str, str]]:
    out = set()
    for importer, imported, name, _ in imports:
        if _namespace(importer) == _namespace(imported) or importer == PACKAGE:
            continue
        private_name = name is not None and name.startswith("_") and not name.startswith("__")
        if _is_private_in_namespace(imported) or private_name:
            out.add((importer, imported))
    return out


def test_the_import_scan_sees_the_package():
    # the scan must see the package and its known imports, or every rule below would pass on nothing
    assert {"harmonomics.io._build", "harmonomics.pp._harmonize", "harmonomics.samples"} <= set(MODULES)
    assert ("harmonomics.io._build", "harmonomics.samples", "choose_samples") in {i[:3] for i in IMPORTS}
    assert ("harmonomics.pp._transforms", "harmonomics._mutations", "mutation_matrix") in {i[:3] for i in IMPORTS}


def test_io_imports_no_other_namespace():
    bad = sorted(
        {
            f"{a} line {line} imports {b}"
            for a, b, _, line in IMPORTS
            if _namespace(a) == "io" and _namespace(b) in NAMESPACES and _namespace(b) != "io"
        }
    )
    assert not bad, "io sits below every other namespace:\n" + "\n".join(bad)


@pytest.mark.parametrize("shared", SHARED_BELOW_IO)
def test_shared_modules_import_no_namespace(shared):
    module = f"{PACKAGE}.{shared}"
    assert module in MODULES
    bad = [f"line {line} imports {b}" for a, b, _, line in IMPORTS if a == module and _namespace(b) in NAMESPACES]
    assert not bad, f"{module} lies below io and pp:\n" + "\n".join(bad)


def test_the_private_import_rule_tells_private_from_public():
    # the rule on imports that the package once had, so that an empty result below means something
    imports = [
        ("harmonomics._report", "harmonomics.pl._utils", None, 1),  # another namespace's private module
        ("harmonomics.export", "harmonomics.tl._signatures", "signature_table", 2),
        ("harmonomics.io._clinical", "harmonomics._clinical", "_find", 3),  # a private name of a shared module
        ("harmonomics._report", "harmonomics.pl", "associations", 4),  # public: fine
        ("harmonomics.io._clinical", "harmonomics._clinical", "find_column", 5),
        ("harmonomics.pl._utils", "harmonomics.pl._factors", None, 6),  # inside its own namespace: fine
        ("harmonomics.tl._cohort", "harmonomics._keys", None, 7),  # the shared base: fine
    ]
    assert _private_imports(imports) == {
        ("harmonomics._report", "harmonomics.pl._utils"),
        ("harmonomics.export", "harmonomics.tl._signatures"),
        ("harmonomics.io._clinical", "harmonomics._clinical"),
    }


def test_no_module_imports_another_namespaces_private_names():
    found = _private_imports()
    where = sorted(
        {f"{a} line {line} imports {b}{'.' + n if n else ''}" for a, b, n, line in IMPORTS if (a, b) in found}
    )
    assert not found, "private modules or names of another namespace imported:\n" + "\n".join(where)


def test_no_import_cycle_between_files():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer, imported, _, _ in IMPORTS:
        if imported in MODULES and imported != importer and importer != PACKAGE:
            graph[importer].add(imported)
    # the package root re-exports every namespace lazily (inside functions); it is no layer of its own
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import cycle: " + " → ".join(cycle))
