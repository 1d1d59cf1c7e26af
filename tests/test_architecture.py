"""The layers of the project (README, "Architecture") hold: checked with import-linter and by
reading every import outside the engine."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lmm_core

REPO = Path(__file__).resolve().parents[1]
# Code built on the engine (tests of the engine itself may look inside it).
OUTSIDE_ENGINE = ["app.py", "app_pages", "app_shell", "charts", "datasets", "classroom", "teaching", "benchmarks"]


def lint_imports() -> Path:
    exe = Path(sys.executable).with_name("lint-imports")
    if exe.exists():
        return exe
    found = shutil.which("lint-imports")
    if not found:
        pytest.fail("lint-imports (import-linter, in requirements-dev.txt) is not installed")
    return Path(found)


def test_import_linter_contracts_are_kept():
    result = subprocess.run([str(lint_imports())], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def python_files():
    for entry in OUTSIDE_ENGINE:
        path = REPO / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def engine_imports(path: Path):
    """(line, module, names) for every import of lmm_core in the file."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lmm_core":
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "lmm_core":
                    yield node.lineno, a.name, []


def test_code_outside_the_engine_uses_only_its_public_api():
    public = set(lmm_core.__all__)
    exported_modules = {n for n in public if isinstance(getattr(lmm_core, n), type(lmm_core))}
    bad = []
    for path in python_files():
        for line, module, names in engine_imports(path):
            where = f"{path.relative_to(REPO)}:{line}"
            parts = module.split(".")
            if len(parts) > 1 and parts[1] not in exported_modules:
                bad.append(f"{where}: imports {module}, which lmm_core/__init__.py does not export")
            for name in names:
                if name.startswith("_"):
                    bad.append(f"{where}: imports the private name {name}")
                elif len(parts) == 1 and name not in public:
                    bad.append(f"{where}: imports {name}, which is not in lmm_core.__all__")
    assert not bad, "\n".join(bad)


def test_public_api_is_documented():
    missing = [n for n in lmm_core.__all__ if n not in (lmm_core.__doc__ or "")]
    assert not missing, f"lmm_core's docstring does not mention: {missing}"
    assert all(getattr(lmm_core, n).__doc__ for n in lmm_core.__all__)
