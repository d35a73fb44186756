# Browser-test fixtures (session-scoped, so registered once here for every test module).
from conftest_ui import open_page, ui_browser, ui_library, ui_server  # noqa: E402,F401
from conftest_core import corpus_library, seed_only_library  # noqa: E402,F401
