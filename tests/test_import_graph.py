"""The package's structure: imports flow one way (no cycle anywhere in the installed package, lazy
imports included), and the engine modules import nothing from the problem catalogue (a problem brings
its own compiled form)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENGINE_MODULES = ("engine_plan", "engine_loop", "engine_kernels", "engine_shards", "engine_copies", "jit")


MAPPED_FOLDERS = ("problems", "properties", "reports")  # installed as convcheck.<folder> (setup.cfg)


def _modules() -> dict:
    """{module name: file} of the whole installed package: convcheck/ and the mapped folders."""
    roots = {"convcheck": ROOT / "convcheck", **{f"convcheck.{f}": ROOT / f for f in MAPPED_FOLDERS}}
    modules = {}
    for prefix, folder in roots.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([prefix, *parts])] = path
    return modules


def _imports() -> dict:
    """{module: set of the package's modules it imports}, every import statement (function-level ones
    too). ``from a import b`` imports the module a.b where there is one, else names of a."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        imported.add(f"{base}.{alias.name}")
                    elif base in modules:
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


def test_the_package_has_no_import_cycle():
    graph = _imports()
    assert len(graph) > 60 and {"convcheck.problems.rebuild", "convcheck.reports.figure_data",
                                "convcheck.properties.fuzz"} <= graph.keys()  # the mapped folders are read
    assert _cycle(graph) is None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_engine_modules_import_no_catalogue_and_not_their_callers():
    graph = _imports()
    callers = {"convcheck.runner", "convcheck.distributed", "convcheck.cli", "convcheck.check", "convcheck"}
    for module in ENGINE_MODULES:
        imported = graph[f"convcheck.{module}"]
        assert not {name for name in imported if name.startswith(("convcheck.problems", "convcheck.properties"))}, module
        assert not imported & callers, module
