"""The documentation site builds without warnings and stays in step with the code it describes."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

from gevent import events
from gevent._config import config

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' to build the docs")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    assert "WARNING" not in log, log
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "reference" / "config" / "index.html").exists()


def nav_pages():
    # mkdocs.yml's nav lines look like "  - Title: path.md"; no YAML parser needed.
    pages = []
    for line in (ROOT / "mkdocs.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("- ") and stripped.endswith(".md"):
            pages.append(stripped.rsplit(":", 1)[1].strip())
    return pages


def test_every_page_is_in_the_nav():
    listed = set(nav_pages())
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert listed == on_disk


def test_config_page_documents_every_setting():
    text = (DOCS / "reference" / "config.md").read_text()
    for name, setting in config.settings.items():
        assert f"`{name}`" in text, name
        assert f"`{setting.environment_key}`" in text, setting.environment_key


def test_events_page_documents_every_name():
    text = (DOCS / "reference" / "monitoring.md").read_text()
    for name in events.__all__:
        assert f"`{name}" in text, name
    for cls in vars(events).values():
        group = getattr(cls, "ENTRY_POINT_NAME", None)
        if isinstance(group, str):
            assert group in text, group


def test_design_page_is_the_design():
    text = (DOCS / "design.md").read_text()
    assert text.startswith("# Design")
    for heading in ("## Layers", "## Layout", "## The core loop", "## The hub"):
        assert heading in text
