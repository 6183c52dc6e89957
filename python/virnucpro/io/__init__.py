"""Reading and writing the files the stages exchange."""
