"""Log formatting: dropped items (non-article pages) are routine, so log them at DEBUG
without dumping the whole item; the drop is counted in the stats and crawl_state."""
import logging

from scrapy.logformatter import LogFormatter


class QuietDropLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.DEBUG, "msg": "Dropped: %(exception)s",
                "args": {"exception": exception}}
