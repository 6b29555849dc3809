"""Generation: submitting prompts, processing jobs, the reaper, the provider circuit."""
