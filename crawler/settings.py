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

# Let non-2xx responses reach the errback through HttpError so each is recorded.
HTTPERROR_ALLOWED_CODES = [304]

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # Known URLs skipped or fetched conditionally, page budget per source (reads crawl_state).
    "crawler.middlewares.IncrementalMiddleware": 560,
}

# One item pipeline per concern, priorities spaced for later additions.
ITEM_PIPELINES = {
    "crawler.pipelines.RejectNonArticlesPipeline": 100,
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
