"""What every lab test checks: the lab runs in --quick mode, every check passes and is in
report.md, and each figure is referenced, embedded in report.html, real-sized and not blank."""
import os
import re

import matplotlib.image as mpimg

from deepprimer.labs import run_lab


def run_quick(tmp_path_factory, name):
    """(output folder, Report, report.md text) of one quick run, seed 0."""
    out = tmp_path_factory.mktemp(name)
    report = run_lab(name, out_dir=str(out), quick=True, seed=0)
    return out, report, (out / "report.md").read_text(encoding="utf-8")


def check_values(report):
    """{check description: measured value} of a lab's report."""
    return {c.description: c.value for c in report.checks}


def assert_checks_pass_and_are_reported(report, markdown, count):
    assert report.passed, report.checks_table()
    assert len(report.checks) == count
    for check in report.checks:
        assert "| " + " | ".join(check.row()) + " |" in markdown


def assert_figures(out, markdown, figures, min_width=500, min_height=150):
    """The report references exactly ``figures`` (in order), embeds them, and each PNG is real."""
    html = (out / "report.html").read_text(encoding="utf-8")
    assert re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown) == figures
    pngs = [f for f in figures if f.endswith(".png")]
    assert html.count('src="data:image/png;base64,') == len(pngs)  # self-contained
    assert html.count('src="data:image/gif;base64,') == len(figures) - len(pngs)
    for name in pngs:
        pixels = mpimg.imread(os.path.join(out, name))
        height, width = pixels.shape[:2]
        assert width >= min_width and height >= min_height, (name, pixels.shape)
        assert pixels.std() > 0.05, f"{name} looks blank"
