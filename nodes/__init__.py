"""Floor 2: the actors — authority, edge miners, beam controllers, users (to come)."""
