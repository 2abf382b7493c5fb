"""Step 1 of the flow: intent (UserProxyProfile) -> exactly one canonical proxy profile, or class A."""
