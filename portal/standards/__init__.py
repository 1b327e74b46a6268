"""Courses providers already own: cmi5 and SCORM 1.2 packages, imported, stored in the
database, served from a separate content origin and tracked by a built-in xAPI LRS."""
