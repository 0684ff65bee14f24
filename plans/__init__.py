"""Planning rounds, templates, submissions and versions, collation and regional review."""
