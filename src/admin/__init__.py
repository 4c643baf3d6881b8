"""Administration: the dashboard and its daily counts, exports and the interop API's
feeds and keys, the audit log viewer, contact tracing, region editing, imports, retention
and backups."""
