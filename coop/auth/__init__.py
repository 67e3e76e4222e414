"""Accounts: registration, membership applications, sign-in and roles."""
