"""Step 5 of the flow: verification of every output against what its canonical profile promises."""
