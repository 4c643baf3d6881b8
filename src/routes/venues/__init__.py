"""Venue pages: a poster's check-in (/v/…), the citizen scanner (/quet), venue
administration and its dashboard, printable posters."""
