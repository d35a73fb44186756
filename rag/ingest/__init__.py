"""Getting articles in: canonical text, file loaders, web pages, feeds, sitemaps, watched folders.

Every source ends in `canonical.make_article`, so every offset the product stores indexes one
canonical text however the article arrived.
"""
