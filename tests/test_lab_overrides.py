"""The course's JupyterLab defaults (jupyter/overrides.json5) name real settings with valid values.

JupyterLab ignores an override for a plugin or a setting it does not know, silently: a typo would bring the
news prompt back. The browser suite shows the effect (tests/browser/test_first_start.py); this checks the
file against the installed JupyterLab's own schemas, in a fraction of a second.
"""

import json
import sys
from pathlib import Path

import json5
import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ROOT / "jupyter" / "overrides.json5"
SCHEMAS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"


def _schema(plugin: str) -> dict:
    package, name = plugin.rsplit(":", 1)
    path = SCHEMAS / package / f"{name}.json"
    assert path.is_file(), f"no JupyterLab plugin {plugin!r} (no schema {path})"
    return json.loads(path.read_text())


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"JupyterLab's schemas are not installed under {sys.prefix}")
def test_every_override_is_a_known_setting_with_a_valid_value():
    overrides = json5.loads(OVERRIDES.read_text())
    assert overrides, f"{OVERRIDES} overrides nothing"
    for plugin, values in overrides.items():
        schema = _schema(plugin)
        unknown = set(values) - set(schema["properties"])
        assert not unknown, f"{plugin} has no setting {sorted(unknown)}"
        jsonschema.validate(values, schema)


def test_news_and_update_prompts_are_off():
    notification = json5.loads(OVERRIDES.read_text())["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
