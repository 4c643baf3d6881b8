"""Citizen pages: sign-in by SMS OTP, the health declaration (/kbyt) and the QR codes (/qr)."""
