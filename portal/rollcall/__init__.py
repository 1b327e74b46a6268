"""Roll call: video series projected to a room, the log of showings, and the resource library."""
