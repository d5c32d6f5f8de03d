"""The index page of ``deepprimer lab all``: one line per lab, linking its report."""
import html
import os

from ..atomic import write_text
from .report import PAGE, Html, html_table


def write_index(root, reports):
    """reports: [(name, out_dir, Report)]. Writes ROOT/index.html and returns its path."""
    rows = []
    for name, out, report in reports:
        link = os.path.relpath(os.path.join(out, "report.html"), root)
        passed = sum(c.passed for c in report.checks)
        rows.append([Html(f'<a href="{html.escape(link)}">{html.escape(report.title)}</a>'), name,
                     f"{passed}/{len(report.checks)}", "PASS" if report.passed else "FAIL", f"{report.seconds:.1f}s"])
    table = html_table(["lab", "name", "checks passed", "result", "time"], rows)
    body = "<h1>deepprimer labs</h1><p>The primer's five hands-on exercises, each run for real.</p>" + table
    path = os.path.join(root, "index.html")
    write_text(path, PAGE.format(title="deepprimer labs", body=body))
    return path
