"""Officers (cán bộ): roles and scope, enrollment links, passkeys (WebAuthn) and an
officer's own passkeys."""
