"""The package's modules form no import cycle: reports and plots depend on results, never the
reverse (issue 17). Imports inside functions count, except in the output methods that hand a
result to its writer (``to_html``, ``to_excel``, as ``polars.DataFrame.write_excel`` does);
imports under ``if TYPE_CHECKING:`` do not count, because they never run."""

from __future__ import annotations

import ast
from pathlib import Path

import fiscalrisk

PACKAGE = Path(fiscalrisk.__file__).parent
#: Methods whose only job is to hand a result to a writer module.
DELEGATIONS = {"to_html", "to_excel"}


def _runtime_imports(tree: ast.AST, module: str, lazy: bool = True) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (not lazy or node.name in DELEGATIONS):
            return
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if (PACKAGE / f"{m}.py").exists() and m != module}


def graph(lazy: bool = True) -> dict[str, set[str]]:
    return {
        path.stem: _runtime_imports(ast.parse(path.read_text(encoding="utf-8")), path.stem, lazy)
        for path in PACKAGE.glob("*.py")
        if path.stem != "__init__"
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found = []
    state: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            walk(node, [node])
    return found


def test_the_detector_finds_a_cycle() -> None:
    assert cycles({"plan": {"report"}, "report": {"plot"}, "plot": {"plan"}}) == [["plan", "report", "plot", "plan"]]


def test_no_import_cycle_in_the_package() -> None:
    assert cycles(graph()) == []


def test_results_never_import_reports_or_plots() -> None:
    # ``PlanResult.to_html`` and ``to_excel`` hand over to the writers inside the method (as
    # ``polars.DataFrame.write_excel`` does); nothing at module level.
    edges = graph(lazy=False)
    for results in ("plan", "savings", "simulation", "risk", "monitoring", "resilience"):
        assert not edges[results] & {"report", "plot", "excel"}, (results, edges[results])
