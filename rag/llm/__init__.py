"""The LLM side: the chat client and its error mapping (`client`), the local llama.cpp server
(`server`) and the local models it serves (`models`)."""
