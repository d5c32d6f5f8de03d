"""The primer's five hands-on exercises, each a lab that trains, draws, checks and reports."""
from .registry import LABS, list_table, run_lab
from .report import Report

__all__ = ["LABS", "Report", "list_table", "run_lab"]
