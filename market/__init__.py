"""Floor 1: the interference pricing game and the seeds' trading contracts (to come)."""
