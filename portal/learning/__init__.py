"""Learning: enrollment in annual sessions, lesson progress, pre- and post-tests, the honor code."""
