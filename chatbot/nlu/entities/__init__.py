"""Entity extraction: one module per entity kind, registered with ``@extractor``."""

from chatbot.nlu.entities.base import Entity
from chatbot.nlu.entities.extract import extract_entities
from chatbot.nlu.entities.registry import extractor

__all__ = ["Entity", "extract_entities", "extractor"]
