"""Generation: jobs from a prompt to a stored SVG, and the generations they make."""
