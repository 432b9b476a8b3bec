import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from govwatch.settings import PLACEHOLDER_SECRET, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(GOVWATCH_[A-Z_]+)`", DOCS.read_text(encoding="utf-8")))
    declared = {f"GOVWATCH_{name.upper()}" for name in Settings.model_fields}
    assert declared - documented == set(), "document these settings in docs/settings.md"


def test_every_setting_has_a_description() -> None:
    assert [name for name, f in Settings.model_fields.items() if not f.description] == []


def test_production_refuses_the_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVWATCH_ENV", "production")
    monkeypatch.setenv("GOVWATCH_SECRET_KEY", PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError, match="GOVWATCH_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("GOVWATCH_SECRET_KEY", "x" * 40)
    assert Settings().env == "production"


def test_development_accepts_the_placeholder_and_defaults_to_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GOVWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("GOVWATCH_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'govwatch.db'}"
    assert settings.resolved_model_dir == tmp_path / "models"
