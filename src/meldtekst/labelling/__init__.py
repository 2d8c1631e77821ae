"""The researchers' labelling loop: what to label next, Label Studio round trips, agreement."""
