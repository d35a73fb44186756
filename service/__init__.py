"""newsground as a service: `rag serve` (UI, /v1 API, MCP over HTTP) and `rag mcp` (stdio). A face over `rag.Library`."""
