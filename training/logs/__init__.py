"""Reading the bot's own turn log for analysts: selection, grouping, export (docs/analysts.md)."""
