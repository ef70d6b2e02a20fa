"""The arrows go one way: surfaces (staff admin, API, views) -> domain (portal, integrations) ->
integrations/xledger. `integrations` never imports `portal` (nor the surfaces above it), and
`integrations/xledger/` knows nothing of the engine around it.

Read from the source with `ast`, so lazy imports inside functions count as much as those at the
top of a module. Migrations are left out: their dependencies on portal's migrations are data, not
code.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DYNAMIC_IMPORTERS = {"import_module", "import_string", "__import__"}


def _package_of(path):
    """The package a module's relative imports start from (for __init__.py: its own)."""
    return list(path.relative_to(ROOT).parts[:-1])


def imported_modules(path):
    """(line, dotted module name) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path)
                base = package[: len(package) - (node.level - 1)]
                yield node.lineno, ".".join([*base, *([node.module] if node.module else [])])
            else:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in DYNAMIC_IMPORTERS and isinstance(first, ast.Constant):
                if isinstance(first.value, str):
                    yield node.lineno, first.value


def python_files(folder):
    return [
        path
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def _is_within(module, package):
    return module == package or module.startswith(f"{package}.")


def test_it_finds_the_files():
    assert len(python_files("integrations")) > len(python_files("integrations/xledger")) > 10


def test_it_keeps_integrations_free_of_portal_and_the_surfaces():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files("integrations")
        for line, module in imported_modules(path)
        if any(_is_within(module, upper) for upper in ("portal", "staff", "api"))
    ]
    assert found == []


def test_it_keeps_xledger_free_of_the_engine():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files("integrations/xledger")
        for line, module in imported_modules(path)
        if _is_within(module, "integrations") and not _is_within(module, "integrations.xledger")
    ]
    assert found == []
