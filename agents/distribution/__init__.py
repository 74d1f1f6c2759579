"""Getting published agents onto people's machines: zips, plugins, other assistants' formats."""
