"""Planning pages: rounds, a submission, its grids and narratives, workflow, Excel."""
