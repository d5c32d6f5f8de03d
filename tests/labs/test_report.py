"""Report: Markdown and self-contained HTML with embedded figures and the checks; the index."""
import base64

import matplotlib.pyplot as plt

from deepprimer.labs.index import write_index
from deepprimer.labs.report import Html, Report


def make_report(tmp_path, passed=True):
    report = Report("Exercise 0: a test", tmp_path, intro="Some **bold** text with `code`.")
    report.heading("Numbers")
    report.table(["name", "value"], [["pi", 3.14159], [Html("<b>raw</b>"), 2]])
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    report.figure(fig, "line.png", "a line")
    report.check("pi is about 3", 3.14159, passed)
    report.seconds = 1.5
    return report


def test_report_writes_markdown_and_self_contained_html(tmp_path):
    report = make_report(tmp_path)
    md_path, html_path = report.write()
    md, page = open(md_path).read(), open(html_path).read()
    assert "# Exercise 0: a test" in md and "| pi | 3.142 |" in md and "![a line](line.png)" in md
    assert "| pi is about 3 | 3.142 | PASS |" in md
    png = base64.b64encode((tmp_path / "line.png").read_bytes()).decode()
    assert f"data:image/png;base64,{png}" in page  # embedded: the page needs no other file
    assert "<strong>bold</strong>" in page and "<code>code</code>" in page and "<b>raw</b>" in page
    assert '<td class="pass">PASS</td>' in page and report.passed


def test_a_failed_check_fails_the_report(tmp_path):
    report = make_report(tmp_path, passed=False)
    assert not report.passed and "FAIL" in report.checks_table()


def test_index_links_every_lab_with_its_verdict(tmp_path):
    reports = [("one", str(tmp_path / "one"), make_report(tmp_path / "one")),
               ("two", str(tmp_path / "two"), make_report(tmp_path / "two", passed=False))]
    page = open(write_index(str(tmp_path), reports)).read()
    assert '<a href="one/report.html">Exercise 0: a test</a>' in page
    assert page.count('class="pass"') == 1 and page.count('class="fail"') == 1


def test_preformatted_text_shows_exactly_as_it_is(tmp_path):
    report = Report("Samples", tmp_path)
    sample = "line one | <b>not bold</b>\n  indented **not bold**\n```inner fence```"
    report.preformatted(sample, caption="a sample")
    report.preformatted("no caption")
    md_path, html_path = report.write()
    md, page = open(md_path).read(), open(html_path).read()
    assert "*a sample*\n\n````text\n" + sample + "\n````" in md  # the fence outgrows the backticks inside
    assert "```text\nno caption\n```" in md
    assert ("<figcaption>a sample</figcaption><pre>line one | &lt;b&gt;not bold&lt;/b&gt;\n"
            "  indented **not bold**\n```inner fence```</pre>") in page
    assert "<pre>no caption</pre>" in page and "<strong>" not in page
