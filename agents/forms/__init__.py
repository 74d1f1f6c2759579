"""Forms by area: the agent and its rows, review comments, imports, the activity filters."""
