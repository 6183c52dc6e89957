"""The package's import structure: no cycles, stages import only downward, and the CLI starts without torch.

The graph counts every import statement, also those inside functions (the package imports heavy modules
where they are used), so a cycle that only shows up at run time is caught too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from virnucpro.cli import SUBCOMMANDS

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "virnucpro"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (a `from a.b import c` counts a.b, and a.b.c if a module)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


GRAPH = _import_graph()


def _imports(importer: str, imported: str) -> list[tuple[str, str]]:
    """Edges from modules at or under `importer` to modules at or under `imported`."""

    def under(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    return sorted((a, b) for a, targets in GRAPH.items() if under(a, importer) for b in targets if under(b, imported))


def test_the_graph_sees_the_whole_package():
    assert {"virnucpro.cli", "virnucpro.io.frame_ids", "virnucpro.runner.checkpoints"} <= set(GRAPH)
    assert "virnucpro.io.frame_ids" in GRAPH["virnucpro.translate"]


def test_no_import_cycle():
    # a package importing its own modules is not a cycle unless one of them imports the package back
    try:
        TopologicalSorter(GRAPH).prepare()
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("virnucpro.train", "virnucpro.report"),
        ("virnucpro.report", "virnucpro.classify"),
        # the exchanged formats sit below every stage
        *[
            ("virnucpro.io", stage)
            for stage in ("virnucpro.translate", "virnucpro.embed", "virnucpro.classify", "virnucpro.report")
        ],
        ("virnucpro.io", "virnucpro.models"),
        ("virnucpro.io", "virnucpro.runner"),
        ("virnucpro.models", "virnucpro.runner"),
    ],
)
def test_stages_import_only_downward(importer, imported):
    assert _imports(importer, imported) == []


def test_the_command_line_and_every_help_text_load_without_torch():
    code = (
        "import sys\n"
        "from virnucpro.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('virnucpro.cli.')))\n"
        "print(sorted(m for m in ('torch', 'tokenizers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    *_, loaded, heavy = result.stdout.splitlines()
    shared = ["threads_option"]  # the option every subcommand takes
    assert loaded == str(sorted(f"virnucpro.cli.{module}" for module in [*SUBCOMMANDS.values(), *shared]))
    assert heavy == "[]"
