"""The layers keep their direction: the product never loads the dev kit, and lower layers never import higher ones."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from core.vocabulary import Vendor

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "exports", "sync", "ingest", "ats", "storage", "core")
OURS = {*PRODUCT, "devkit", "tests"}
#: What each lower layer may import besides itself: `bot → (exports, sync, ingest) → (ats, storage) → core`.
MAY_IMPORT = {
    "core": set(),
    "storage": {"core"},
    "ats": {"core"},
    "exports": {"ats", "storage", "core"},
    "sync": {"ats", "storage", "core"},
    "ingest": {"storage", "core"},
}


def test_the_product_loads_no_module_of_the_dev_kit() -> None:
    # A fresh interpreter, as a deployment has: what the tests themselves imported must not count.
    code = (
        "import json, sys\n"
        "import bot.app, bot.cli, bot.server, bot.worker, " + ", ".join(PRODUCT) + "\n"
        "import bot.cli\n"
        "bot.cli.build_parser()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'devkit' or m.startswith('devkit.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def imports_of(package: str) -> dict[str, set[str]]:
    """Return each module of `package` with the top-level packages of ours it imports (lazy imports too)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            targets |= {name.split(".")[0] for name in names}
        found[module] = targets
    return found


def test_the_product_imports_the_dev_kit_only_inside_the_commands_that_use_it() -> None:
    allowed = {"bot.cli.demo", "bot.cli.ats", "bot.cli.bench"}
    for package in PRODUCT:
        for module, targets in imports_of(package).items():
            assert "devkit" not in targets or module in allowed, module


def test_each_layer_imports_only_the_layers_below_it() -> None:
    for package, allowed in MAY_IMPORT.items():
        for module, targets in imports_of(package).items():
            wrong = (targets & OURS) - allowed - {package}
            assert not wrong, f"{module} imports {sorted(wrong)}"


def test_the_export_engine_is_built_in_one_place() -> None:
    """`exports.engine.build_engine` gives every engine the shared rate budgets; nothing else builds one."""
    builders = []
    for package in (*PRODUCT, "devkit"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ExportEngine":
                    builders.append(str(path.relative_to(ROOT)))
    assert builders == ["exports/engine.py"]


def test_product_modules_stay_small_enough_to_read() -> None:
    """Small modules named for what they do; a vendor adapter and a migration may run longer."""
    adapters = {f"ats/{vendor.value}.py" for vendor in Vendor}
    long = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if name in adapters or "/migrations/" in name:
                continue
            lines = len(path.read_text().splitlines())
            if lines > 420:
                long.append(f"{name}: {lines}")
    assert long == []
