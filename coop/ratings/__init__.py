"""Members rate the clients they worked for (issue 11 item 18), the way Turkopticon does."""
