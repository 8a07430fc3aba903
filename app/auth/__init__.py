"""Users, units, roles and the access policy (one function decides every access)."""
