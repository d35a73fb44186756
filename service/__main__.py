"""`python -m service serve|mcp`: the service commands under the `rag` group's options."""

from rag.cli import main
from service.cli import mcp, serve

main.add_command(serve)
main.add_command(mcp)

if __name__ == "__main__":
    main(prog_name="rag")
