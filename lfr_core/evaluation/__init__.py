"""Accuracy evaluation of the face engine on labelled manifests (NIST FRTE 1:N definitions)."""
