"""Deliveries: uploads, reviews, disputes and auto-acceptance."""
