"""The subject's side: access to one's own data (and, later, objections and appeals)."""
