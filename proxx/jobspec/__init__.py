"""Step 2 of the flow: a compiled intent + sources -> one immutable JobSpec."""
