"""Officer check pages: /kiemtra and its scanner, the kiosk, assisted and paper entry."""
