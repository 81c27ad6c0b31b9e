"""Issue 17: ``fiscalrisk init`` templates load, ``fiscalrisk schema`` describes exactly the keys the
core accepts, and the core's errors are in the user's words (no serde internals) with the item's
id and the file's line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomllib

import fiscalrisk as fr
from fiscalrisk import schema

DATA = Path(fr.__file__).parent / "data"
TEMPLATES = DATA / "templates"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_each_template_is_written_and_loads(tmp_path: Path) -> None:
    assert run("init", "plan.toml", cwd=tmp_path).returncode == 0
    assert run("init", "--register", "register.toml", cwd=tmp_path).returncode == 0
    m = run("init", "--monitoring", "month.csv", cwd=tmp_path)
    assert m.returncode == 0 and "forecast_outturn" in m.stdout  # the column guide
    plan = fr.Scenario.from_toml(tmp_path / "plan.toml")
    assert plan.to_dict()["plan"]["years"] == 3
    register = fr.RiskRegister.from_toml(tmp_path / "register.toml")
    assert len(register) == 2
    report = fr.monitoring.check(fr.monitoring.read(tmp_path / "month.csv"))
    assert report.exit_code() == 0 and report.month == 2
    # The template runs end to end.
    assert plan.simulate(trials=2_000, seed=1, progress=False).by_year().height == 3


def test_every_template_key_carries_a_comment() -> None:
    for name in ("plan.toml", "register.toml"):
        for line in (TEMPLATES / name).read_text().splitlines():
            if re.match(r"^[a-z_]+ = ", line):  # a key of the file
                assert "#" in line, f"{name}: {line!r} has no unit, sign and default"


def test_init_never_overwrites_and_checks_the_suffix(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text("mine")
    r = run("init", "plan.toml", cwd=tmp_path)
    assert r.returncode == 2 and "already exists" in r.stderr
    assert (tmp_path / "plan.toml").read_text() == "mine"
    r = run("init", "--monitoring", "month.toml", cwd=tmp_path)
    assert r.returncode == 2 and ".csv" in r.stderr


def test_schema_validates_the_bundled_files_and_templates(tmp_path: Path) -> None:
    out = run("schema", cwd=tmp_path)
    assert out.returncode == 0
    scenario = json.loads(out.stdout)
    jsonschema.Draft202012Validator.check_schema(scenario)
    for path in (DATA / "birmingham_2019.toml", TEMPLATES / "plan.toml"):
        jsonschema.validate(tomllib.loads(path.read_text()), scenario)
    register = json.loads(run("schema", "--register", cwd=tmp_path).stdout)
    for path in (DATA / "birmingham_register.toml", TEMPLATES / "register.toml"):
        jsonschema.validate(tomllib.loads(path.read_text()), register)
    # And it refuses what the core refuses.
    bad = tomllib.loads((TEMPLATES / "plan.toml").read_text())
    bad["reserves"]["planned"] = -5e6
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, scenario)


def _core_keys(data: dict[str, Any], path: list[Any]) -> set[str]:
    """The keys the core accepts at ``path``: add an unknown key there and read its error."""
    node: Any = data
    for step in path:
        node = node[step]
    node["zz_unknown"] = 1
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_dict(data)
    del node["zz_unknown"]
    match = re.search(r"`zz_unknown` is not a key here; the keys are (.*)", str(e.value))
    assert match, str(e.value)
    return {k.strip() for k in match.group(1).split(",")}


def _schema_keys(s: dict[str, Any], path: list[Any], data: dict[str, Any]) -> set[str]:
    node: Any = s
    value: Any = data
    for step in path:
        if isinstance(step, int):
            node = node["items"]
        else:
            node = node["properties"][step]
        value = value[step]
        if "oneOf" in node:  # the form that the file's value takes
            node = next(
                f for f in node["oneOf"]
                if f.get("type") == "object" and set(value) <= set(f["properties"])
                and f["properties"].get("dist", {}).get("const") == value.get("dist")
            )
    return set(node["properties"])


@pytest.mark.parametrize(
    "path",
    [[], ["plan"], ["pressures", 0], ["savings", 0], ["risks", 0], ["reserves"], ["reserves", "earmarked", 0],
     ["reserves", "transfers", 0], ["policy"], ["in_year"], ["savings", 0, "delivery"], ["risks", 0, "impact"],
     ["pressures", 0, "amount"]],
)
def test_schema_keys_are_the_cores_keys(path: list[Any]) -> None:
    data = tomllib.loads((TEMPLATES / "plan.toml").read_text())
    data["in_year"] = {"overspend": {"dist": "normal", "mean": 1e6, "sd": 1e6}}
    data["savings"][0]["delivery"] = {"p_full": 0.5, "partial": {"dist": "uniform", "low": 0.0, "high": 1.0}, "p_slip": 0.1}
    data["reserves"]["transfers"] = [{"year": "2025/26", "from": "general_fund", "to": "Financial resilience reserve",
                                      "amount": 1e6}]
    expected = _schema_keys(schema.scenario_schema(), path, data)
    expected.discard("dist")  # a distribution's tag: the core lists the other keys of its kind
    assert _core_keys(data, path) == expected


@pytest.mark.parametrize(
    "path",
    [[], ["plan"], ["drivers", 0], ["funding"], ["funding", "council_tax"], ["funding", "business_rates"],
     ["funding", "grants", 0], ["funding", "fees", 0], ["spending", 0], ["spending", 2], ["capital"],
     ["capital", "programme", 0], ["capital", "directions", 0], ["capital", "commercial", 0], ["capital", "mrp"],
     ["capital", "loans", 0]],
)
def test_funding_schema_keys_are_the_cores_keys(path: list[Any]) -> None:
    data = tomllib.loads((DATA / "birmingham_2019.toml").read_text())
    data["capital"] = {
        "opening_cfr": 100e6, "opening_debt": 80e6, "debt_rate": 0.04, "borrowing_rate": 0.05,
        "mrp": {"method": "straight_line", "years": 50},
        "programme": [{"name": "Depot", "spend": {"2019/20": 1e6}, "mrp": {"method": "straight_line", "years": 5}}],
        "directions": [{"name": "EFS", "amount": {"2020/21": 1e6}}],
        "commercial": [{"name": "Property", "income": 1e6}],
        "loans": [{"name": "Company", "principal": 10e6, "rate": 0.05, "expected_credit_loss": [0, 0, 0, 0]}],
    }
    expected = _schema_keys(schema.scenario_schema(), path, data)
    expected.discard("method")  # an MRP method's tag: the core lists the other keys of its kind
    assert _core_keys(data, path) == expected


# -- errors in the user's words ------------------------------------------------------------------

BASE = (DATA / "birmingham_2019.toml").read_text()


@pytest.mark.parametrize(
    "old, new, says",
    [
        ('minimum_general_fund = { percent_of_budget = 0.05 }', 'minimum_general_fund = 5e6',
         "expected one of { amount = ... }, { percent_of_budget = ... }, { risk_assessed = 0.95 }"),
        ('minimum_general_fund = { percent_of_budget = 0.05 }', 'minimum_general_fund = { percent = 0.05 }',
         "expected one of { amount = ... }"),
        ('impact = { dist = "pert", low = 50e6, mode = 150e6, high = 400e6 }', 'impact = 5e6',
         'risks[0].impact: TOML parse error'),
        ('probability = 0.5', 'probability = "half"', '"half" is not a number'),
        ('recurring = true', 'recurring = "yes"', '"yes" is not true or false'),
        ('rag = "amber"', 'rag = 3', "3 is not text"),
    ],
)
def test_scenario_errors_never_show_serde_internals(old: str, new: str, says: str) -> None:
    assert old in BASE
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str(BASE.replace(old, new, 1))
    message = str(e.value)
    assert says in message
    for internal in ("internally tagged", "newtype variant", "wanted string or table", "expected f64", "struct ",
                     "unit variant", "DistributionSpec", "DeliverySpec"):
        assert internal not in message, message


def test_a_number_for_a_distribution_lists_the_forms() -> None:
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str(BASE.replace('impact = { dist = "pert", low = 50e6, mode = 150e6, high = 400e6 }',
                                               'impact = 5e6', 1))
    assert '5000000.0 is not a distribution; write one of { dist = "fixed", value = ... }' in str(e.value)


def test_range_errors_carry_the_id_and_the_line() -> None:
    lines = BASE.splitlines()
    number = next(i for i, ln in enumerate(lines, 1) if ln.startswith("probability = 0.5"))
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str(BASE.replace("probability = 0.5", "probability = 1.5", 1))
    assert str(e.value) == f'risks[0] ("equal_pay").probability: 1.5 is outside [0, 1] (line {number})'
    register = (DATA / "birmingham_register.toml").read_text()
    rl = register.splitlines()
    at = next(i for i, ln in enumerate(rl, 1) if ln.startswith("probability = "))
    with pytest.raises(fr.ValidationError) as e:
        fr.RiskRegister.from_toml_str(register.replace(rl[at - 1], "probability = -0.2", 1))
    assert str(e.value) == f'risks[0] ("equal_pay").probability: -0.2 is outside [0, 1] (line {at})'
    with pytest.raises(fr.ValidationError, match=r'savings\[0\] \("S-001"\)\.value: .* is negative'):
        fr.Scenario.from_toml_str(BASE.replace("value = 4_500_000", "value = -4_500_000", 1))


# -- the pre-commit hook and the CI recipe ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _hook() -> dict[str, Any]:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "fiscalrisk-check"]
    return dict(hook)


def test_the_pre_commit_hook_passes_a_clean_table_and_stops_a_broken_one(tmp_path: Path) -> None:
    hook = _hook()
    assert re.search(hook["files"], "monitoring/2018-19-m08.csv") and hook["pass_filenames"]
    entry = hook["entry"].split()
    assert entry[0] == "python"
    good = DATA / "monitoring_2018_19_m08.csv"
    r = subprocess.run([sys.executable, *entry[1:], str(good)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "m08.csv"
    broken.write_text(good.read_text().replace("334000000.00", "335000000.00", 1))  # lines no longer add to TOTAL
    r = subprocess.run([sys.executable, *entry[1:], str(good), str(broken)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "m08.csv" in r.stdout
    r = subprocess.run([sys.executable, *entry[1:], str(tmp_path / "missing.csv")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2


def test_the_ci_recipe_in_the_workflow_and_readme_runs(tmp_path: Path) -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github/workflows/monitoring-check.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    (command,) = [s["run"] for s in steps if s.get("name") == "fiscalrisk check"]
    args = command.replace("\\\n", " ").split(">")[0].split()
    assert args[:2] == ["fiscalrisk", "check"]
    r = subprocess.run([sys.executable, "-m", "fiscalrisk", *args[1:]], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.lstrip().startswith("<?xml") and "<testsuite" in r.stdout


def test_the_plan_templates_correlations_line_works_where_it_stands(tmp_path: Path) -> None:
    # Issue 37: uncommenting `# correlations = ...` where it stood put it inside [[risks]].
    path = tmp_path / "plan.toml"
    subprocess.run([sys.executable, "-m", "fiscalrisk", "init", "--plan", str(path)], check=True, capture_output=True)
    text = path.read_text(encoding="utf-8")
    assert text.index("# correlations = [") < text.index("[plan]")
    # Uncommented, with a second risk to name, it is read as the scenario's correlations.
    second = '\n[[risks]]\nid = "other_risk"\nname = "Other"\nprobability = 0.2\nimpact = { dist = "fixed", value = 1e6 }\n'
    s = fr.Scenario.from_toml_str(text.replace("# correlations = [", "correlations = [") + second)
    assert s.to_dict()["correlations"]
    # Written under a table instead, the message says where it belongs.
    misplaced = text + second + 'correlations = [["legal_claims", "other_risk", 0.3]]\n'
    with pytest.raises(fr.ValidationError, match="it is a top-level key: move it above the first"):
        fr.Scenario.from_toml_str(misplaced)


@pytest.mark.parametrize("path", [[], ["provisions", 0], ["dsg"], ["dsg", "write_off"], ["collection_fund"], ["hra"],
                                  ["treasury"], ["capital"], ["capital", "loans", 0], ["capital", "programme", 0],
                                  ["drivers", 0], ["spending", 0], ["funding"], ["funding", "council_tax"],
                                  ["funding", "grants", 0]])
def test_balance_sheet_schema_keys_are_the_cores_keys(path: list[Any]) -> None:
    # Issue 33: the template's commented optional sections (drivers, funding, spending, capital,
    # the balance sheet, treasury), uncommented, load, and their keys are the core's and the
    # schema's.
    text = (TEMPLATES / "plan.toml").read_text()
    start = text.index("# Drivers (optional")
    sections = "\n".join(
        line[2:] if line.startswith("# ") and re.match(r"^# (\[|[a-z_]+ = )", line) else ""
        for line in text[start:].splitlines()
    )
    data = tomllib.loads(text[:start] + sections)
    assert {"provisions", "dsg", "collection_fund", "hra", "treasury", "capital", "funding", "drivers",
            "spending"} <= set(data)
    fr.Scenario.from_dict(data)  # the uncommented template loads
    expected = _schema_keys(schema.scenario_schema(), path, data)
    assert _core_keys(data, path) == expected
