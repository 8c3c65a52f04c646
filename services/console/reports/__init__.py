"""报表: the monthly report, the annual summary, per-unit on-time rates and deductions."""
