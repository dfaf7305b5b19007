"""Live matching: the in-memory exact matcher, tracks, and alert decisions."""
