"""Shared fixtures. Tests run against the database named by DATABASE_URL (SQLite or PostgreSQL)."""
