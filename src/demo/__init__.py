"""Demo data for ``khaibao demo``: a province's regions, officers, venues, policies and
thousands of declarations for the dashboards."""
