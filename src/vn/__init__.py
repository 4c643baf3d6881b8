"""Pure parsing of Vietnamese identity data: ID numbers (CCCD/CMND, passports), BHYT cards,
chip-card QR text, phone numbers, countries and the Vietnamese alphabetical order. No database."""
