"""Signing in and out through routing, and the sessions that keep the token server-side."""
