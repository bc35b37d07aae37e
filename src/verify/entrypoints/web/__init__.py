"""The browser front end: `verify serve` (needs the `web` extra)."""
