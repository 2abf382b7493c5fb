"""Step 6 of the flow: hand every finished job's JobSpec and result to the installed exporters."""
