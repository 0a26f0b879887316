"""Each module stands alone: it imports only itself and the kernel (chalicelib/core), except the
narrow interfaces listed here; its function entry loads no other module's code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "chalicelib"
MODULES = sorted(p.name for p in CHALICELIB.iterdir() if (p / "function.py").exists())
# The only crossings: a module's interface.py, for the module named (issue: "the export asks
# documents and profile through their services"; the history shows only the events about what its
# reader may see, which documents decides).
INTERFACES = {
    "export": {"chalicelib.documents.interface", "chalicelib.profile.interface"},
    "activity": {"chalicelib.documents.interface"},
    # issue 25: the emergency summary's latest advance directives the caller may read
    "profile": {"chalicelib.documents.interface"},
    "fhir": {"chalicelib.documents.interface", "chalicelib.profile.interface", "chalicelib.agenda.interface"},
}


def imported(path: Path) -> set[str]:
    """Every chalicelib module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.startswith("chalicelib.")}


def package_of(name: str) -> str:
    return name.split(".")[1]


# The kernel's sub-packages (chalicelib/core/__init__.py) and the ones each may use; every one may
# use the foundation, chalicelib/core's own files, which use no sub-package. No circle can form.
KERNEL = CHALICELIB / "core"
KERNEL_USES = {
    "data": set(),
    "security": {"data"},
    "history": {"data"},
    "policy": {"history", "security", "data"},
    "http": {"security", "data"},
}
FOUNDATION = sorted(p.stem for p in KERNEL.glob("*.py") if p.stem != "__init__")


def kernel_part(name: str) -> str:
    """``chalicelib.core.data.aws`` -> data; ``chalicelib.core.clock`` -> foundation."""
    part = name.split(".")[2]
    return part if part in KERNEL_USES else "foundation"


def allowed(module: str, name: str) -> bool:
    return (
        package_of(name) in (module, "core")
        or name in INTERFACES.get(module, set())
        or any(name.startswith(interface + ".") for interface in INTERFACES.get(module, set()))
    )


def test_the_twelve_modules_have_an_entry():
    assert MODULES == [
        "access",
        "activity",
        "agenda",
        "catalogue",
        "documents",
        "enrolment",
        "export",
        "fhir",
        "messaging",
        "migration",
        "platform",
        "profile",
    ]


@pytest.mark.parametrize("module", [*MODULES, "core"])
def test_a_module_imports_only_itself_and_the_kernel(module):
    crossings = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (CHALICELIB / module).rglob("*.py")
        for name in imported(path)
        if not (allowed(module, name) or (module == "core" and package_of(name) == "core"))
    }
    assert crossings == set()


def test_interfaces_are_the_only_crossings_and_are_used():
    for module, interfaces in INTERFACES.items():
        used = {name for path in (CHALICELIB / module).rglob("*.py") for name in imported(path)}
        assert interfaces <= used | {n.rsplit(".", 1)[0] for n in used}


def test_the_kernel_is_the_foundation_and_its_sub_packages():
    assert sorted(p.name for p in KERNEL.iterdir() if (p / "__init__.py").exists()) == sorted(KERNEL_USES)
    assert FOUNDATION == ["clock", "errors", "ids", "logs", "memo", "models", "settings"]
    for package in KERNEL_USES:
        assert ast.get_docstring(ast.parse((KERNEL / package / "__init__.py").read_text(encoding="utf-8")))


@pytest.mark.parametrize("part", [*KERNEL_USES, "foundation"])
def test_each_kernel_part_uses_only_the_parts_below_it(part):
    files = KERNEL.glob("*.py") if part == "foundation" else (KERNEL / part).rglob("*.py")
    may_use = {part, "foundation", *KERNEL_USES.get(part, set())} if part != "foundation" else {"foundation"}
    crossings = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported(path)
        if kernel_part(name) not in may_use
    }
    assert crossings == set()


def private_uses(path: Path) -> set[str]:
    """Names starting with _ that a file takes from the kernel: imported, or read off a kernel module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kernel_modules: set[str] = set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib.core"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.add(f"{node.module}.{alias.name}")
                kernel_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in kernel_modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.add(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("module", MODULES)
def test_modules_use_only_the_kernels_public_names(module):
    assert {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (CHALICELIB / module).rglob("*.py")
        for name in private_uses(path)
    } == set()


LOADED = """import json, sys
import chalicelib.{module}.function as entry
assert entry.app.routes
print(json.dumps(sorted(name for name in sys.modules if name.startswith("chalicelib."))))
"""


@pytest.mark.parametrize("module", MODULES)
def test_a_function_entry_loads_no_other_modules_code(module):
    """Imported in a fresh interpreter, as Lambda does at cold start."""
    run = subprocess.run(
        [sys.executable, "-c", LOADED.format(module=module)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(run.stdout))
    foreign = {
        name
        for name in loaded
        if package_of(name) not in (module, "core") and name not in INTERFACES.get(module, set())
    }
    assert foreign == set()
    assert f"chalicelib.{module}.routes" in loaded
