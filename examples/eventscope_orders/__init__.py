"""The example order system."""
