"""Scrapy settings for the cuttings crawler.

`cuttings crawl` overrides a few of these from the ``[crawl]`` table of
``data/sources.toml`` (user agent, robots, throttling, timeouts, size limits).
"""
BOT_NAME = "cuttings"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Identify ourselves with a contact URL, and obey robots.txt.
USER_AGENT = "cuttings/0.1 (+https://github.com/cuttings-news/cuttings; press-cuttings monitor)"
ROBOTSTXT_OBEY = True

# Politeness: one or two requests at a time per site, adaptive delay.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Faults: bounded retries (429 and 503 honour Retry-After, see middlewares), timeouts,
# size limits that also cap decompressed size (gzip bombs), bounded redirect chains.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5_000_000
DOWNLOAD_WARNSIZE = 2_000_000
REDIRECT_MAX_TIMES = 5
DNS_TIMEOUT = 20
# the URL policy's address rule applied again to the answer the connection uses (DNS rebinding)
TWISTED_DNS_RESOLVER = "crawler.resolver.PublicOnlyResolver"

# Let non-2xx responses reach the errback through HttpError so each is recorded.
HTTPERROR_ALLOWED_CODES = [304]

DOWNLOADER_MIDDLEWARES = {
    # URL policy first (crawler/urlpolicy.py): http(s) only, the source's own hosts, no internal
    # addresses unless the source is local; it sees every request, redirects included.
    "crawler.urlpolicy.UrlPolicyMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.urlpolicy.CappedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # Known URLs skipped or fetched conditionally, page budget per source (reads crawl_state).
    "crawler.middlewares.IncrementalMiddleware": 560,
}

# Only the HTTP(S) handlers, which enforce DOWNLOAD_MAXSIZE: no file://, ftp://, s3://, data:.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

# Private, loopback and link-local addresses are refused unless the source is local
# (`local = true`) or `[crawl] allow_private_addresses = true` (demo and tests).
CUTTINGS_ALLOW_PRIVATE_ADDRESSES = False
# A robots.txt larger than this means "disallow everything" for that site (recorded).
CUTTINGS_ROBOTSTXT_MAXSIZE = 500_000

# Discovery budgets per source per run (recorded in crawl_notices when hit): sitemaps fetched
# (indexes and their children), article links taken from one page, total Retry-After wait;
# entries read from one sitemap (the newest kept; its XML is read up to DOWNLOAD_MAXSIZE).
CUTTINGS_MAX_SITEMAPS_PER_SOURCE = 100
CUTTINGS_MAX_LINKS_PER_PAGE = 100
CUTTINGS_MAX_SITEMAP_ENTRIES = 5000
CUTTINGS_MAX_RETRY_WAIT_PER_SOURCE = 300.0

SPIDER_MIDDLEWARES = {
    "crawler.middlewares.StorageErrorSpiderMiddleware": 550,
}

# One item pipeline per concern, priorities spaced for later additions.
ITEM_PIPELINES = {
    "crawler.pipelines.RejectNonArticlesPipeline": 100,
    "crawler.pipelines.CleanTextPipeline": 150,
    "crawler.pipelines.NormaliseUrlsPipeline": 200,
    "crawler.pipelines.StoreArticlesPipeline": 400,
}

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "crawler.logformatter.QuietDropLogFormatter"

# Extraction runs in a process pool so the reactor thread only does I/O.
CUTTINGS_EXTRACT_WORKERS = 2
# Seconds one page's extraction may take in the pool (0: no limit): over it the page is an
# extract_failed error and its worker is replaced ([crawl] extract_timeout in sources.toml).
CUTTINGS_EXTRACT_TIMEOUT = 60.0
