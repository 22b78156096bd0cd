"""The results tables of the READMEs (README.md, recipes/*/README.md) hold only figures that a committed file backs
(issue 21: every number a reader is shown has a file behind it, and a hand-typed one is caught).

Backing files: the generated blocks of each recipe's RESULTS.md (between ``<!-- generated: NAME -->`` and
``<!-- end generated -->``; test_dns_report.py checks that they are what the committed summaries render) and the
committed outputs beside them (``recipes/*/summaries/**/*.md``: maese-score tables, checks) and under
``tools/benchmarks/``. A README table is a results table when one of its columns is a metric
(``maese.scoring.HEADERS``: PESQ, STOI, ESTOI, SI-SDR (dB), DNSMOS ...). Each of its rows that gives figures must
match one row of a backing table on every metric it gives (a backing cell "1.31 ± 0.06" stands for 1.31; figures are
compared as written, so 12.8 is not 12.80). A row whose metric cells hold no figure ("to be filled") is left alone.

Numbers in the READMEs' prose (dates, options, sizes, differences of two table values) are not checked here: telling
a result from the rest would need a list of exceptions to keep up by hand.
"""

import re
from pathlib import Path

from maese.scoring import HEADERS

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", *sorted(ROOT.glob("recipes/*/README.md"))]
METRICS = {header.lower() for header in HEADERS.values()}
GENERATED = re.compile(r"<!-- generated: [^>]*-->\n(.*?)<!-- end generated -->", re.S)
RULE = re.compile(r"\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _cells(line):
    """The cells of a Markdown table row (escaped pipes kept inside their cell)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def tables(text):
    """[(header cells, [row cells, ...]), ...] of every Markdown table in ``text``."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines) - 1:
        if lines[i].lstrip().startswith("|") and RULE.fullmatch(lines[i + 1].strip()):
            head, rows, i = _cells(lines[i]), [], i + 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append((head, rows))
        else:
            i += 1
    return found


def figures(head, row):
    """{metric header: the first figure of its cell} of one table row; metrics without a figure left out."""
    found = {}
    for name, cell in zip(head, row):
        name = name.replace("*", "").strip().lower()
        if name in METRICS:
            match = NUMBER.search(cell.replace("*", "").replace("\u2212", "-").replace("+", ""))
            if match:
                found[name] = match.group()
    return found


def backing_rows(root=ROOT):
    """The figures of every row of every backing table, with the file each comes from."""
    texts = [(path, block) for path in sorted(root.glob("recipes/*/RESULTS.md"))
             for block in GENERATED.findall(path.read_text())]
    outputs = [*sorted(root.glob("recipes/*/summaries/**/*.md")), *sorted(root.glob("tools/benchmarks/*.md"))]
    texts += [(path, path.read_text()) for path in outputs]
    return [(path, values) for path, text in texts for head, rows in tables(text) for row in rows
            if (values := figures(head, row))]


def unbacked(text, backing):
    """The rows of the results tables of ``text`` whose figures match no backing row, as (row text, figures)."""
    missing = []
    for head, rows in tables(text):
        for row in rows:
            values = figures(head, row)
            if values and not any(values.items() <= other.items() for _, other in backing):
                missing.append((" | ".join(row), values))
    return missing


def test_every_figure_of_a_readme_results_table_is_in_a_generated_table_or_a_committed_output():
    backing = backing_rows()
    assert backing, "no generated block or committed output found"
    checked = sum(bool(figures(head, row)) for path in READMES for head, rows in tables(path.read_text())
                  for row in rows)
    assert checked, "no README results table holds figures: is the table parsing broken?"
    problems = [f"{path.relative_to(ROOT)}: | {row} | ({values})"
                for path in READMES for row, values in unbacked(path.read_text(), backing)]
    assert not problems, ("README rows whose figures no generated RESULTS.md table or committed output holds "
                          "(copy them from one, name it, or regenerate: cd recipes/DNS && python report.py tables "
                          "summaries/*.json):\n" + "\n".join(problems))


def test_the_check_finds_a_hand_edited_figure_and_ignores_rows_to_be_filled(tmp_path):
    results = tmp_path / "recipes" / "X" / "RESULTS.md"
    results.parent.mkdir(parents=True)
    results.write_text("Prose | PESQ | 9.99 |\n\n<!-- generated: r -->\n| system | files scored | PESQ | SI-SDR (dB) |\n"
                       "| --- | ---: | ---: | ---: |\n| mae | 3/3 | 1.60 ± 0.08 | 12.80 ± 0.96 |\n"
                       "| wiener | 3/3 | 1.45 ± 0.07 | - |\n<!-- end generated -->\n\n"
                       "| system | PESQ |\n| --- | --- |\n| hand-typed | 2.50 |\n")
    check = tmp_path / "recipes" / "X" / "summaries" / "checks" / "a.md"
    check.parent.mkdir(parents=True)
    check.write_text("| model | PESQ drop | PESQ |\n| --- | ---: | ---: |\n| m | 0.07 | 4.58 ± 0.05 |\n")
    backing = backing_rows(tmp_path)
    assert [values for _, values in backing] == [  # the hand-typed table outside the block is not backing
        {"pesq": "1.60", "si-sdr (db)": "12.80"}, {"pesq": "1.45"}, {"pesq": "4.58"}]
    readme = ("| data | system | PESQ | STOI | SI-SDR (dB) |\n| --- | --- | ---: | ---: | ---: |\n"
              "| 2026-12-06, paired 0.1 | mae | **1.60** | | 12.80 |\n| x | wiener | 1.45 | | |\n"
              "| x | checked | 4.58 | | |\n| DNS 16 kHz | mae | to be filled | | |\n\n"
              "| size | files |\n| --- | --- |\n| 5.6 GB | 824 |\n")
    assert unbacked(readme, backing) == []
    edited = readme.replace("| 12.80 |", "| 12.81 |")
    assert unbacked(edited, backing) == [("2026-12-06, paired 0.1 | mae | **1.60** |  | 12.81",
                                          {"pesq": "1.60", "si-sdr (db)": "12.81"})]
    assert unbacked(readme.replace("| 12.80 |", "| 12.8 |"), backing)  # as written: a rounding is not the figure
    assert unbacked(readme + "\n| system | PESQ |\n| --- | --- |\n| hand-typed | 2.50 |\n", backing)
