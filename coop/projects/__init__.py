"""Micro-task projects: many small items done inside Coop, each answer timed, paid and logged."""
