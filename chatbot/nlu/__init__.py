"""Natural-language understanding: normalize -> segment -> intent -> entities."""
