"""运维: users, units, the holiday calendar, rules, quarantine, uploads, dead letters,
health."""
