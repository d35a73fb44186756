"""The web UI: a Gradio app over `rag.Library` (`rag ui`)."""

import os

# The app itself guarantees this, whoever starts it (set before any module here imports Gradio):
# Gradio must not phone home.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
