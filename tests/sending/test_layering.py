"""The engine is a lower layer: it knows no web page and needs none of the import machinery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ENGINE_MODULES = sorted(f"app.sending.{path.stem}" for path in (APP / "sending").glob("*.py"))
MAILBOX_MODULES = sorted(f"app.mailbox.{path.stem}" for path in (APP / "mailbox").glob("*.py"))


def blueprint_packages() -> set[str]:
    """Every package of `app` that defines a blueprint (an area of the web UI)."""
    return {
        f"app.{init.parent.name}" for init in APP.glob("*/__init__.py") if "Blueprint(" in init.read_text()
    }


def modules_loaded_by(imports: list[str]) -> set[str]:
    code = "import json, sys\n" + "".join(f"import {name}\n" for name in imports)
    code += "print(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=APP.parent
    )
    return set(json.loads(output.stdout))


@pytest.mark.processes  # a fresh interpreter, to see what an import loads
def test_importing_the_engine_loads_neither_pandas_nor_any_blueprint():
    loaded = modules_loaded_by(ENGINE_MODULES)
    assert "pandas" not in loaded
    areas = blueprint_packages()
    assert {"app.auth", "app.campaigns", "app.unsubscribe"} <= areas
    web = [name for name in loaded if any(name == area or name.startswith(f"{area}.") for area in areas)]
    assert web == []


def test_the_statuses_sit_below_the_engine_and_the_pages():
    """`app.states` is imported by the models, the engine and the pages, and imports none of them."""
    loaded = {name for name in modules_loaded_by(["app.states"]) if name == "app" or name.startswith("app.")}
    assert loaded == {"app", "app.clock", "app.states"}


def test_the_mailbox_reader_is_a_lower_layer_too_it_loads_no_blueprint():
    loaded = modules_loaded_by(MAILBOX_MODULES)
    areas = blueprint_packages()
    web = [name for name in loaded if any(name == area or name.startswith(f"{area}.") for area in areas)]
    assert web == []
