"""Floor 1: keys, transactions, blocks, reputation and the consensus state machine (to come)."""
