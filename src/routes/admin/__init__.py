"""Administration pages (/quan-tri/…): checkpoints, officers, policies, regions, API keys,
the audit log, the dashboard, exports, retention and contact tracing."""
