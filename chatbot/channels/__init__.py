"""Channel adapters: turn channel input into engine calls and deliver replies back."""
