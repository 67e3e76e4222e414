"""Notifications: telling people what happened to them, in the app and by e-mail."""
