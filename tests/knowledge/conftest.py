"""Expensive knowledge objects, built once for the whole test session (an index takes about a second)."""
import pytest

from chatbot.settings import DATA_DIR
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import load_faq
from knowledge.kg.answer import KgAnswerer
from knowledge.kg.load import KnowledgeGraph


@pytest.fixture(scope="session")
def faq_entries():
    return load_faq(DATA_DIR / "faq.yaml")


@pytest.fixture(scope="session")
def retriever():
    """The FAQ as the service indexes it: entries and their training phrasings."""
    return FaqRetriever.from_file(DATA_DIR / "faq.yaml")


@pytest.fixture(scope="session")
def graph():
    return KnowledgeGraph.load(DATA_DIR / "kg.yaml")


@pytest.fixture(scope="session")
def kg(graph):
    return KgAnswerer(graph)
