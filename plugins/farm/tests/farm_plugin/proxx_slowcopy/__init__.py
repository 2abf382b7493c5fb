"""A second engine for the farm tests, installed only where its folder is on the Python path."""
