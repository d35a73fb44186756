"""Plain helpers shared by the tests and the benches (servers, the local news site, PDFs, paths).

The conftest plugins beside them hold only fixtures."""
