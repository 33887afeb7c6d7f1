"""The engine's structure: imports flow one way (no cycles, lazy imports included), and the engine
modules import nothing from the problem catalogue (a problem brings its own compiled form)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENGINE_MODULES = ("engine_plan", "engine_loop", "engine_kernels", "engine_shards", "engine_copies", "jit")


def _imports(package_dir: pathlib.Path, package: str) -> dict:
    """{module: set of imported module names}, every import statement (function-level ones too)."""
    graph = {}
    modules = {f"{package}.{path.stem}" for path in package_dir.glob("*.py")}
    modules |= {f"{package}.{sub}" for sub in ("problems", "properties", "reports")}  # installed beside it
    for path in sorted(package_dir.glob("*.py")):
        name = package if path.stem == "__init__" else f"{package}.{path.stem}"
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = package + (f".{node.module}" if node.module else "")
                named = {f"{base}.{alias.name}" for alias in node.names}
                imported.update(named & modules)
                if named - modules:  # names from the module itself (`from . import x` imports only x)
                    imported.add(base)
        graph[name] = imported - {name}
    return graph


def _cycle(graph: dict):
    """One cycle of ``graph`` restricted to its own nodes, as a list, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for other in sorted(graph[node] & graph.keys()):
            if state.get(other) == "open":
                return path[path.index(other):] + [other]
            if other not in state:
                found = visit(other, path + [other])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_engine_package_has_no_import_cycle():
    graph = _imports(ROOT / "convcheck", "convcheck")
    assert _cycle(graph) is None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_engine_modules_import_no_catalogue_and_not_their_callers():
    graph = _imports(ROOT / "convcheck", "convcheck")
    callers = {"convcheck.runner", "convcheck.distributed", "convcheck.cli", "convcheck.check", "convcheck"}
    for module in ENGINE_MODULES:
        imported = graph[f"convcheck.{module}"]
        assert not {name for name in imported if name.startswith(("convcheck.problems", "convcheck.properties"))}, module
        assert not imported & callers, module
