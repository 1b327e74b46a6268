"""Content packs: the pack format, its validation, the registry of installed packs,
their files, and the authoring commands."""
