"""Step 4 of the flow: an engine plugin renders each clip of a validated JobSpec."""
