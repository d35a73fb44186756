# The fixture modules are pytest plugins, registered once here: every session fixture exists once
# per run, and test modules import only plain helpers (constants, functions, classes) from them.
pytest_plugins = ["conftest_core", "conftest_llm", "conftest_ui", "conftest_web", "conftest_service"]
