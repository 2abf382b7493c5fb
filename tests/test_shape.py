"""The core's shape: no import cycle among proxx's modules (runtime imports; `if TYPE_CHECKING:`
imports are annotations only), and the runner stays the job's outline, not its every step."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import proxx

ROOT = Path(proxx.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    for name, path in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                module = resolve(target) if target.startswith("proxx") else None
                if module and module != name and module != "proxx":  # the root only re-exports, lazily
                    graph[name].add(module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycle_in_the_core():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_farm_is_a_plugin_the_core_never_imports():
    # Scale-out is the proxx-farm distribution (plugins/farm), reached through the proxx_dispatchers
    # and proxx_subcommands hooks: the core has no farm package and names proxx_farm in no import,
    # not even one for type checkers, and declares no second entry-point group for it.
    assert not (ROOT / "farm").exists()
    imported = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.append((path.name, node.module or ""))
    assert [(file, name) for file, name in imported if name.split(".")[0] == "proxx_farm"] == []
    core = importlib.metadata.distribution("proxx-media")
    assert {ep.group for ep in core.entry_points} <= {"console_scripts", "pytest11"}


def test_the_runner_is_the_jobs_outline():
    # Its steps live where a reader looks for them: clips in execute/clips, verification in verify/,
    # exporters in export/, publishing in execute/publish, leases in execute/lease.
    assert len((ROOT / "execute" / "runner.py").read_text(encoding="utf-8").splitlines()) < 250


PIPELINE = ("compile", "jobspec", "validate", "execute", "verify", "export", "store", "media")
ABOVE_THE_PIPELINE = ("app", "worker", "cli", "web", "watch", "openjd", "dispatch")


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == f"proxx.{p}" or module.startswith(f"proxx.{p}.") for p in packages)


def test_the_pipeline_looks_down_only():
    # compile -> jobspec -> validate -> execute -> verify -> export, with the store and media below:
    # none of them reaches up to the facade, the shells or scale-out.
    graph = import_graph()
    upward = sorted(
        (module, target)
        for module, targets in graph.items()
        if _in(module, PIPELINE)
        for target in targets
        if _in(target, ABOVE_THE_PIPELINE)
    )
    assert upward == []


def test_the_shape_test_sees_an_upward_import():
    assert _in("proxx.execute.clips", PIPELINE) and _in("proxx.app", ABOVE_THE_PIPELINE)
    assert not _in("proxx.application", ABOVE_THE_PIPELINE)


def test_no_core_module_imports_a_plugin():
    # Plugins load through the entry-point group; the core knows none of them by its module.
    found = []
    for path in ROOT.rglob("*.py"):
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [(str(path.relative_to(ROOT)), n) for n in names if n.split(".")[0].startswith("proxx_")]
    assert found == []


def test_one_claim_and_run():
    # `proxx worker`, `Proxx.run_job` and a farm worker take and run a job one way,
    # `proxx.execute.claim`: nothing else holds a lease around a run.
    checkout = ROOT.parent
    holders = [
        str(path.relative_to(checkout))
        for folder in (ROOT, checkout / "plugins")
        for path in folder.rglob("*.py")
        if ".keep(" in path.read_text(encoding="utf-8") and "/tests/" not in str(path)
    ]
    assert holders == ["proxx/execute/claim.py"]


def test_the_web_page_is_a_shell_only_serve_loads():
    # `proxx serve` is the one way into proxx/web (an optional extra): no other core module imports it.
    importers = sorted(
        module
        for module, targets in import_graph().items()
        if not _in(module, ("web",)) and any(_in(t, ("web",)) for t in targets)
    )
    assert importers == ["proxx.cli.serve"]
