"""Exchange with other tools: REFI-QDA projects for qualitative analysis software (`qdpx`),
Spark DataFrames (`spark`)."""
