"""Citizens: phone verification (OTP), the persons of a phone account, health
declarations (khai báo y tế), what health and arrival declarations share, and the BHYT registry."""
