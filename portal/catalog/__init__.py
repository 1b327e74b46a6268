"""The catalog: every pack, searchable and filterable, and each course's page."""
