from rag.cli.main import main

main(prog_name="rag")
