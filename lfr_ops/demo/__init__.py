"""`lfr demo`: the main job told end to end (story.py), the images it uses (data.py) and the user interfaces it
walks through (ui.py)."""
