"""Wealth management: the risk questionnaire, suitability, the product catalogue (graph + sales
table) and the hash-chained evidence of what a customer was shown before a sale."""
