"""QR codes: the token format (person, live person, venue), the one classifier of scanned
text, device keys for the live QR, and rendering QR images."""
