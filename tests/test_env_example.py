""".env.example names every setting the app reads, and nothing else, each with a value it accepts; README's
Configuration table names them too."""

from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values

from bot.settings import LogSettings, Settings

ROOT = Path(__file__).resolve().parents[1]


def aliases(model: type) -> set[str]:
    return {field.alias for field in model.model_fields.values() if field.alias}


def test_env_example_lists_every_setting_and_its_defaults_are_accepted(monkeypatch) -> None:
    example = dotenv_values(ROOT / ".env.example")
    assert set(example) == aliases(Settings) | aliases(LogSettings)
    for name, value in example.items():
        if value:  # an empty one is for the operator to fill in
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///scaleup.db" and settings.ats_rate_limits == {}
    assert LogSettings(_env_file=None).log_level == "info"


def test_readme_configuration_table_names_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = {name for name in aliases(Settings) | aliases(LogSettings) if f"`{name}`" not in table}
    assert not missing, f"README's Configuration table does not name {sorted(missing)}"
