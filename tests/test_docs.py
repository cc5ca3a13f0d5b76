"""Every measured figure in the docs comes from a committed results file, not a retyped copy.

A Markdown table in ``docs/`` whose rows carry numbers must either be included from
``benchmarks/results/`` (MyST ``{include}``) or be a verbatim copy of rows of a results
file. Tables that describe the package rather than measure it (parameters, extras,
versions) are listed by their header in ``REFERENCE_HEADERS``. A table may name its results
file in a comment just above it (``<!-- source: benchmarks/results/NAME.md -->``); it is then
checked against that file alone.
The README's headline numbers must each appear in the results file its bullet names.
"""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"
#: Folders of the docs that the build writes: not sources.
GENERATED = ("_build", "generated", "auto_examples")
#: Header rows of tables that list settings or versions, not measurements.
REFERENCE_HEADERS = {
    "| extra | installs | for |",
    "| parameter | default | meaning |",
    "| attribute | content |",
    "| setting | when to change it |",
    "| Python | PyMC / PyTensor | backend |",
    "| package | oldest supported | why this one |",
    '| | ADVI (`method="advi"`) | MILE (`method="mile"`) | NUTS (`method="nuts"`) |',
}
SOURCE_COMMENT = re.compile(r"<!--\s*source:\s*(\S+)\s*-->")
NUMBER = re.compile(r"\d")


def doc_pages() -> list[Path]:
    return sorted(
        path
        for path in DOCS.rglob("*.md")
        if not any(part in GENERATED for part in path.relative_to(DOCS).parts)
    )


def tables(text: str) -> list[tuple[str | None, list[str]]]:
    """Each Markdown table of ``text``: the source named in a comment just above it (or
    None) and its lines, header first (the ``|---|`` line left out)."""
    found, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|"):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            above = [line for line in lines[max(0, start - 3) : start] if line.strip()]
            source = SOURCE_COMMENT.search(above[-1]) if above else None
            rows = [line.strip() for line in lines[start:i] if not line.startswith("|---")]
            found.append((source.group(1) if source else None, rows))
        i += 1
    return found


def results_text() -> str:
    return "\n".join(path.read_text() for path in RESULTS.rglob("*.md"))


def measured_tables() -> list[tuple[str, str | None, list[str]]]:
    """(page#table, source, rows) of every docs table that is not a reference table."""
    cases = []
    for page in doc_pages():
        for number, (source, rows) in enumerate(tables(page.read_text())):
            if rows[0] not in REFERENCE_HEADERS:
                cases.append((f"{page.relative_to(DOCS)}#{number}", source, rows))
    return cases


def test_docs_tables_are_copies_of_results_files():
    all_results = results_text()
    retyped = {}
    for name, source, rows in measured_tables():
        text = (ROOT / source).read_text() if source else all_results
        rows = [row for row in rows[1:] if NUMBER.search(row) and row not in text]
        if rows:
            retyped[name] = rows
    assert not retyped, (
        "these rows carry numbers that no file in benchmarks/results/ holds; include the "
        f"results file with MyST's {{include}} instead of copying it: {retyped}"
    )


def test_a_retyped_docs_table_is_found(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("intro\n\n| model | log loss |\n|---|---|\n| forest | 0.123456 |\n")
    monkeypatch.setattr(sys.modules[__name__], "DOCS", tmp_path)
    assert measured_tables() == [
        ("page.md#0", None, ["| model | log loss |", "| forest | 0.123456 |"])
    ]
    with pytest.raises(AssertionError, match="forest"):
        test_docs_tables_are_copies_of_results_files()


def test_docs_table_finder_sees_tables_and_sources():
    text = "intro\n\n<!-- source: benchmarks/results/x.md -->\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert tables(text) == [("benchmarks/results/x.md", ["| a | b |", "| 1 | 2 |"])]
    assert tables("| a |\n|---|\n| 1 |\n\ntext") == [(None, ["| a |", "| 1 |"])]


def test_a_retyped_row_is_caught():
    """The check itself: a row edited by one digit is not in any results file."""
    text = results_text()
    row = next(line for line in text.splitlines() if line.startswith("| moons | BayesianMLP |"))
    assert row in text
    edited = re.sub(r"\d(?=\D*$)", lambda m: str((int(m.group()) + 1) % 10), row)
    assert edited not in text


def readme_headlines() -> list[tuple[str, str]]:
    """(results file, bullet text) of each bullet under the README's headline numbers."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Headline numbers", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n- ", section)[1:]
    found = []
    for bullet in bullets:
        files = re.findall(r"`([\w/]+\.md)`", bullet)
        assert files, f"a README headline names no results file: {bullet[:60]}"
        found.append((files, bullet))
    return found


def test_readme_headline_numbers_come_from_the_results_files_they_name():
    for files, bullet in readme_headlines():
        source = "\n".join((RESULTS / name).read_text() for name in files)
        # Decimal figures and percentages, not counts such as "five data sets".
        for figure in re.findall(r"\d+\.\d+", bullet):
            assert figure in source, f"README figure {figure} is not in {files}"
