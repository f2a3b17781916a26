"""The package layout's promises: data flows one way, and no module needs itself to load."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from testing.served import REPO_ROOT

PACKAGES = ("weather", "dashboards", "testing")
#: What the client may never import: it is usable from a script with no UI stack.
UI_LIBRARIES = ("panel", "holoviews", "hvplot", "bokeh", "streamz", "param")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            continue
        yield node
        yield from _runtime_nodes(node)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports when run, at any depth of its code, by absolute name."""
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def project_modules() -> dict[str, set[str]]:
    modules = {module_name(p): p for pkg in PACKAGES for p in (REPO_ROOT / pkg).rglob("*.py")}
    return {name: {i for i in imports_of(path) if i in modules} for name, path in modules.items()}


def test_the_client_imports_no_ui_library() -> None:
    """Test that nothing in weather/ imports Panel or the rest of the UI stack."""
    offenders = {
        name: sorted(i for i in imports_of(REPO_ROOT / (name.replace(".", "/") + ".py"))
                     if i.split(".")[0] in UI_LIBRARIES)
        for name in project_modules() if name.startswith("weather.") and "." in name
        and (REPO_ROOT / (name.replace(".", "/") + ".py")).exists()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_once_per_process_code_imports_no_view_or_page() -> None:
    """Test that dashboards/server/ never imports views/ or page/ (data flows one way)."""
    graph = project_modules()
    offenders = {
        name: sorted(i for i in deps if i.startswith(("dashboards.views", "dashboards.page")))
        for name, deps in graph.items() if name.startswith("dashboards.server")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycle_among_the_project_modules() -> None:
    """Test that no module of the project imports, through others, itself."""
    graph = project_modules()
    # A package's __init__ importing its own submodules is not a cycle: drop parent edges.
    graph = {name: {d for d in deps if not name.startswith(d + ".") and d != name}
             for name, deps in graph.items()}
    cycles, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == "open":
                cycles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


#: Reaching into a library's insides: HoloViews' plot handles as data sinks, Panel's drawn
#: plots, streamz's emit, a source's private fields, any ``._name`` of an object not ours.
PRIVATE_USE = re.compile(r"\._plots\b|\._emit\(|\.source\._[a-z]|handles\[|"
                         r"\b(?:pn|panel|bokeh|hv|holoviews|streamz|param)\.[\w.]*\._[a-z]")
#: The one allowed place, isolated and tested against Bokeh's releases
#: (tests/test_page_scripts.py): Panel has no switch to leave out BokehJS's unused bundles.
ISOLATED = {"dashboards/page/scripts.py"}


def test_the_app_uses_no_private_attribute_of_its_libraries() -> None:
    """Test that no app module reaches into Panel, Bokeh, HoloViews or streamz internals."""
    found = [
        f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}"
        for path in sorted((REPO_ROOT / "dashboards").rglob("*.py"))
        if str(path.relative_to(REPO_ROOT)) not in ISOLATED
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE_USE.search(line.split("#")[0])
    ]
    assert found == []
