"""Reports: report.json with provenance, report.md shaped like the paper's Table 1, and plots."""
