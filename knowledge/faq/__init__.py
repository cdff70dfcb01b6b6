"""FAQ store, retrieval index, ranking and clarification."""
