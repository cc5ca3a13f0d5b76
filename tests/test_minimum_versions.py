"""The oldest supported versions are stated once, in pyproject.toml, and proven in CI.

``.ci/minimum-versions.txt`` pins every runtime dependency to its lower bound in
``pyproject.toml``; ``.ci/run`` installs the package with those pins and runs the fast part
of the suite on them. These tests keep the pins, the bounds and the table of supported
versions on the getting-started page from drifting apart, and, inside that run (the
environment variable ``BNN_SKLEARN_MINIMUM_VERSIONS=1``), check that the pins are what got
installed.
"""

import os
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / ".ci" / "minimum-versions.txt"
GETTING_STARTED = ROOT / "docs" / "getting_started.md"
#: Set by .ci/run's minimum-versions job.
ENVIRONMENT_VARIABLE = "BNN_SKLEARN_MINIMUM_VERSIONS"
#: The header of the supported-versions table on the getting-started page.
TABLE_HEADER = "| package | oldest supported | why this one |"
#: A row of that table: | `package` | version | why |
TABLE_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([0-9][0-9.]*)\s*\|")


def only_version(requirement: Requirement, operator: str, where: str) -> Version:
    """The version of ``requirement``'s single ``operator`` clause; a clear error otherwise."""
    versions = [Version(s.version) for s in requirement.specifier if s.operator == operator]
    if len(versions) != 1:
        raise ValueError(
            f"{where}: {requirement} must have exactly one '{operator}' clause, "
            f"found {len(versions)}"
        )
    return versions[0]


def lower_bounds(pyproject_text: str) -> dict[str, Version]:
    """Each runtime dependency of a pyproject.toml and its ``>=`` lower bound."""
    dependencies = tomllib.loads(pyproject_text)["project"]["dependencies"]
    bounds = {}
    for line in dependencies:
        requirement = Requirement(line)
        bounds[canonicalize_name(requirement.name)] = only_version(
            requirement, ">=", "pyproject.toml"
        )
    return bounds


def pins(constraints_text: str) -> dict[str, Version]:
    """Each ``name==version`` line of a pip constraints file (comments and blanks skipped)."""
    pinned = {}
    for line in constraints_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if name in pinned:
                raise ValueError(f"minimum-versions.txt: {name} is pinned twice")
            pinned[name] = only_version(requirement, "==", "minimum-versions.txt")
    return pinned


def documented_versions(page_text: str) -> dict[str, Version]:
    """The supported-versions table of a page: package -> oldest version (each row)."""
    lines = page_text.splitlines()
    if TABLE_HEADER not in lines:
        raise ValueError(f"no table headed {TABLE_HEADER!r}")
    documented = {}
    for line in lines[lines.index(TABLE_HEADER) + 1 :]:
        if not line.startswith("|"):
            break
        if not line.startswith("|---"):
            match = TABLE_ROW.match(line)
            if match is None:
                raise ValueError(f"not a `package` | version row: {line!r}")
            documented[canonicalize_name(match.group(1))] = Version(match.group(2))
    return documented


def test_constraints_pin_every_runtime_dependency_to_its_lower_bound():
    bounds = lower_bounds(PYPROJECT.read_text())
    assert bounds, "pyproject.toml lists no runtime dependencies"
    assert pins(CONSTRAINTS.read_text()) == bounds


def test_getting_started_lists_the_lower_bounds():
    assert documented_versions(GETTING_STARTED.read_text()) == lower_bounds(PYPROJECT.read_text())


def test_the_table_is_read_row_by_row_under_its_header():
    page = f"""| `plot` | 3.1 | not this table |

{TABLE_HEADER}
|---|---|---|
| `NumPy` | 2.2 | why |
| `scikit_learn` | 1.6.1 | why |

| `pymc` | 5.0 | after the table |
"""
    assert documented_versions(page) == {
        "numpy": Version("2.2"),
        "scikit-learn": Version("1.6.1"),
    }
    with pytest.raises(ValueError, match=re.escape("not a `package` | version row")):
        documented_versions(page.replace("| `NumPy` | 2.2 |", "| NumPy | 2.2 |"))


def test_a_dependency_without_a_lower_bound_is_refused():
    text = '[project]\ndependencies = ["numpy>=2.2", "scipy"]\n'
    with pytest.raises(ValueError, match=re.escape("scipy must have exactly one '>=' clause")):
        lower_bounds(text)


def test_a_constraint_that_is_not_a_pin_is_refused():
    with pytest.raises(ValueError, match=re.escape("numpy>=2.2 must have exactly one '==' clause")):
        pins("# comment\nnumpy>=2.2\n")


def test_pins_and_bounds_are_compared_as_versions():
    # "2.2" and "2.2.0" are the same version; a different patch release is not.
    bounds = lower_bounds('[project]\ndependencies = ["NumPy>=2.2", "scikit_learn>=1.6.1"]\n')
    assert pins("numpy==2.2.0  # oldest\nscikit-learn==1.6.1\n") == bounds
    assert pins("numpy==2.2.1\nscikit-learn==1.6.1\n") != bounds


@pytest.mark.skipif(
    os.environ.get(ENVIRONMENT_VARIABLE) != "1",
    reason=f"only in .ci/run's minimum-versions job ({ENVIRONMENT_VARIABLE}=1)",
)
def test_the_minimum_versions_run_installed_the_lower_bounds():
    installed = {name: Version(version(name)) for name in lower_bounds(PYPROJECT.read_text())}
    assert installed == lower_bounds(PYPROJECT.read_text())
