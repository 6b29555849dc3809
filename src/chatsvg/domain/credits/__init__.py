"""Credits: the append-only ledger and the rules that move a balance."""
