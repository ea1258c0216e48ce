"""Items the crawler yields. Plain dict-like items declared as Scrapy Items."""
import scrapy


class ArticleItem(scrapy.Item):
    """One fetched page after extraction (see crawler.extract.extract_article)."""
    url = scrapy.Field()            # the URL the page was fetched from (after redirects)
    fetched_url = scrapy.Field()    # the URL requested (crawl_state key)
    canonical_url = scrapy.Field()  # normalised rel=canonical or URL: the article's identity
    link_url = scrapy.Field()       # the address a reader opens: the accepted rel=canonical as written, else url
    source_id = scrapy.Field()
    found_by = scrapy.Field()       # discovery layer: feed, sitemap, links, search
    http_status = scrapy.Field()
    etag = scrapy.Field()
    last_modified = scrapy.Field()
    title = scrapy.Field()
    body = scrapy.Field()
    author = scrapy.Field()         # the byline as one string ("A, B")
    authors = scrapy.Field()        # the people in the byline, a list (article_authors rows)
    author_source = scrapy.Field()  # json-ld, meta, markup, text, override
    published_at = scrapy.Field()
    published_source = scrapy.Field()
    modified_at = scrapy.Field()
    modified_source = scrapy.Field()
    language = scrapy.Field()
    description = scrapy.Field()
    section = scrapy.Field()
    paywalled = scrapy.Field()
    is_article = scrapy.Field()
    reject_reason = scrapy.Field()
    extracted_canonical = scrapy.Field()
    fingerprint = scrapy.Field()    # MinHash of the body (bytes), computed in the extraction worker
    rechecked = scrapy.Field()      # a page rejected as too short before, fetched again while new
