"""Support: finding and helping learners, staff roles, the audit log, the contact form."""
