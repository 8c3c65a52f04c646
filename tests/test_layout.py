"""The tree says the design: services are composition roots over domain packages, no
module grows past 500 lines, domains meet only at their public modules, and the
development kit stays out of the product."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit  # needs no server

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "routing", "deadlines", "publishing", "console")
MAX_LINES = 500

# A service's top level is its composition root; everything else lives in a domain.
ROOT_MODULES = frozenset(
    {"__init__", "app", "wiring", "deps", "settings", "consumers", "cli", "timers", "tasks"}
)
# What one domain may import of another: its functions and data types...
PUBLIC_ROOMS = frozenset({"service", "commands", "models", "schemas"})
# ...and the pure modules that are the domain's vocabulary (no I/O, no state).
PUBLIC_PURE = {
    # the classifier and what it reads: letters classify every letter they register
    ("routing", "classify"): {"classifier", "rules", "suggestion", "similarity", "segmentation"},
    # the workflow table: search filters on its states
    ("routing", "letters"): {"workflow"},
    # working days: clocks, reports and the API count on them
    ("deadlines", "calendar"): {"working_days"},
    # the clock rules: the calendar builds them, supervision judges answers by them
    ("deadlines", "clocks"): {"rules"},
    # the last gate before publication
    ("publishing", "redaction"): {"leak_scan"},
}


def _modules(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_no_product_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for base in ("services", "shared", "devkit")
        for p in _modules(ROOT / base)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_top_level_is_its_composition_root(service: str) -> None:
    top = {p.stem for p in (ROOT / "services" / service).glob("*.py")}
    assert top <= ROOT_MODULES, sorted(top - ROOT_MODULES)


@pytest.mark.parametrize("service", SERVICES)
def test_domains_meet_only_at_their_public_modules(service: str) -> None:
    base = ROOT / "services" / service
    prefix = f"services.{service}."
    wrong = []
    for path in _modules(base):
        rel = path.relative_to(base).parts
        if len(rel) == 1:
            continue  # the composition root puts the domains together
        domain = rel[0]
        for name in _imports(path):
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix) :].split(".")
            if parts[0] == domain or len(parts) < 2 or not (base / parts[0]).is_dir():
                continue
            module = parts[-2] if (base / "/".join(parts[:-1])).is_dir() is False else parts[-1]
            allowed = PUBLIC_ROOMS | PUBLIC_PURE.get((service, parts[0]), set())
            if module not in allowed and parts[-1] not in allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_no_service_imports_another_and_shared_imports_none() -> None:
    wrong = []
    for path in _modules(ROOT / "services"):
        rel = path.relative_to(ROOT / "services").parts
        own = rel[0] if len(rel) > 1 else None
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "devkit" and path.name != "cli.py":
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
            if (
                parts[0] == "services"
                and len(parts) > 1
                and parts[1] in SERVICES
                and own is not None
                and parts[1] != own
            ):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    for path in _modules(ROOT / "shared"):
        wrong.extend(
            f"{path.relative_to(ROOT)} imports {name}"
            for name in _imports(path)
            if name.split(".")[0] in ("services", "devkit")
        )
    assert wrong == []


def test_the_wheel_holds_the_product_and_not_the_development_kit(tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder

    wheel = Path(next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path)))))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.endswith(".dist-info/")}
    assert {"services", "shared"} <= tops
    assert not any(name.startswith("devkit/") for name in names)
    assert not any(name.startswith("tests/") for name in names)
    # The data the product reads at run time ships with it.
    assert "services/routing/classify/data/default_rules.json" in names
    assert "services/publishing/redaction/data/surnames.txt" in names
    # The console's pages, its stylesheet and the vendored htmx with its licence.
    assert "services/console/templates/base.html" in names
    assert "services/console/letters/templates/worklist.html" in names
    assert "services/console/auth/templates/login.html" in names
    assert "services/console/static/console.css" in names
    assert "services/console/static/htmx-2.0.11.min.js" in names
    assert "services/console/static/htmx.LICENSE" in names
