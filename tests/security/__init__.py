"""Attacks found on the platform, kept as regression tests (issue 25): each must stay refused."""
