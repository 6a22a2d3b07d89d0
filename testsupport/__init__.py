"""Real servers (uvicorn, the model server, databases of their own) for tests and benchmarks."""
