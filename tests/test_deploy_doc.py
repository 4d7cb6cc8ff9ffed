"""docs/deploy.md lists every setting, so operators can trust its table."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from bot.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def _variables() -> set[str]:
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names.update(f"CLUSTERBOT_{name}__{sub}".upper() for sub in section.model_fields)
        else:
            names.add(f"CLUSTERBOT_{name}".upper())
    return names


def test_the_deploy_guide_lists_every_setting() -> None:
    text = DEPLOY.read_text()
    missing = sorted(v for v in _variables() if f"| `{v}` |" not in text)
    assert missing == [], f"add these to the table in docs/deploy.md: {missing}"


def test_the_deploy_guide_states_the_chroma_advisory() -> None:
    text = DEPLOY.read_text()
    assert "CVE-2026-45829" in text
    assert "checks no token" in text
