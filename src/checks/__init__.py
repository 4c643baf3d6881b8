"""The officer's check (kiểm tra) at checkpoints and health facilities: from scanned or
typed text to a person and a colour; checkpoints and their kiosks."""
