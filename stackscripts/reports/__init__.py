"""Reports read only from the audit store: boot-time tables, comparisons, HTML timelines."""
