"""Arrival pages: the arrival declaration (/khaibao) and the local officials' list of
arrivals (/quan-tri/nguoi-den)."""
