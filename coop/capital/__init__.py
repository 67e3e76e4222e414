"""The capital register: members' shares (parts sociales), dated on the ledger."""
