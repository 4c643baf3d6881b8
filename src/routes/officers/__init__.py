"""Officer sign-in with passkeys, the officer session guard and each officer's home page."""
