"""The annotation overlay: analysts' labels for what customers typed (docs/analysts.md)."""
