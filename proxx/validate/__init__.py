"""Step 3 of the flow: class B validation of a stored JobSpec, before anything runs."""
