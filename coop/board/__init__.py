"""The board: admissions, parameters, disputes and members."""
