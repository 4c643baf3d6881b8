"""The small core every feature stands on: settings, errors, the clock, languages, the
database and its engines, page rendering, security headers, keys, rate limits, sessions, the
audit log, SMS, charts and CSV. Imports no feature package."""
