"""The four services' public HTTP APIs, called with the signed-in person's own token."""
