"""Quarantine policies (chính sách cách ly): the admin form, versions, venue point
policies, and the decision of what applies to a person."""
