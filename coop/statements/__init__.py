"""Monthly profit-sharing: month close, surplus allocation and PDF statements."""
