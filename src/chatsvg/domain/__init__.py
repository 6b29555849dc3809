"""The pure core: jobs, credits, accounts and their rules. Standard library only, no I/O."""
