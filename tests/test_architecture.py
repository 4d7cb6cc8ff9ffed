"""House rules that keep the core independent of chat platforms and of each other."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "knowledge", "ingest", "storage")
PLATFORM_MODULES = ("telegram", "slack_bolt", "slack_sdk")
ADAPTERS = {"bot/telegram.py", "bot/slack.py", "bot/app.py", "bot/cli.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _sources() -> list[Path]:
    return [
        p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts
    ]


def test_core_never_imports_a_chat_platform() -> None:
    offenders = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel in ADAPTERS:
            continue
        bad = {n for n in _imports(path) if n.split(".")[0] in PLATFORM_MODULES}
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert offenders == []


def test_storage_imports_nothing_of_ours() -> None:
    offenders = []
    for path in (ROOT / "storage").rglob("*.py"):
        ours = {n for n in _imports(path) if n.split(".")[0] in {"bot", "knowledge", "ingest"}}
        if ours:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(ours)}")
    assert offenders == []


def test_no_module_reads_the_environment() -> None:
    offenders = []
    for path in _sources():
        text = path.read_text()
        if "os.environ" in text or "os.getenv" in text:
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_declare_their_public_names(package: str) -> None:
    module = importlib.import_module(package)
    assert isinstance(getattr(module, "__all__", None), list | tuple)
