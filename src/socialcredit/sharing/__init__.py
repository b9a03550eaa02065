"""Who may see what: API keys (`keys`) and the access rules every surface applies (`access`)."""
