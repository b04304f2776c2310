"""Online experiments measured: A/B and interleaving figures from readers' feedback, a verdict
per experiment, and the report (``results.json``, ``report.md``, PNGs)."""

from evaluation.online.report import write_online_report
from evaluation.online.results import Design, online_results

__all__ = ["Design", "online_results", "write_online_report"]
