"""Venues (điểm đến): registering them, poster codes and printable posters, check-ins by
the citizen or by venue staff, and the venue dashboard's numbers."""
