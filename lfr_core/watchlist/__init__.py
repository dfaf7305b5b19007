"""Watchlists: built from a source manifest, versioned, approved, activated, expired and purged with proof."""
