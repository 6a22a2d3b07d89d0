"""Knowledge: files and collector items cut into passages and indexed, and the passages most
relevant to a question chosen for a reply (``knowledge.retrieval.retrieve``)."""
