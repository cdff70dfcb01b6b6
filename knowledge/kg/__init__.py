"""Knowledge graph of the bank's products: loading, entity linking, answer composition."""
