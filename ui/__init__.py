"""The web UI: a Gradio app over `rag.Library` (`rag ui`)."""
