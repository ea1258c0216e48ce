"""Log formatting: dropped items (non-article pages) are routine, so log them at DEBUG
without dumping the whole item; the drop is counted in the stats and crawl_state.

A scraped item is not logged at all (Scrapy's convention: a ``LogFormatter`` method that
returns None omits the entry). Scrapy's default logs the whole item at DEBUG, article text
included; no handler of ours prints DEBUG, yet building the record (and redacting it) cost
time on the crawl's main thread for every article. The stored article, ``crawl_state`` and
the stats (``item_scraped_count``) record what was scraped."""
import logging

from scrapy.logformatter import LogFormatter


class QuietDropLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.DEBUG, "msg": "Dropped: %(exception)s",
                "args": {"exception": exception}}

    def scraped(self, item, response, spider=None):
        return None
