"""Public pages: home, FAQ and the contact form."""
