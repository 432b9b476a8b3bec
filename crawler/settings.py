"""Scrapy settings of the govwatch crawler: polite by default (robots.txt, one request per site at a time)."""

BOT_NAME = "govwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = (
    "govwatch/0.1 (compliance monitoring of government public accounts; +https://github.com/govwatch)"
)
ROBOTSTXT_OBEY = True

# Politeness: one request at a time per site, a delay between them that AutoThrottle adapts to the
# site's latency, and never more than 16 requests in flight in total.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a larger page is recorded as an error, not stored
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 10  # a longer chain is a loop, or a site sending us away: an error, not a page

# Retries: 5xx and timeouts back off exponentially (BackoffRetryMiddleware); 429 waits for the
# site's Retry-After (RetryAfterMiddleware), so it is not in RETRY_HTTP_CODES.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
GOVWATCH_BACKOFF_BASE = 2.0  # seconds before the first retry; doubled for each further one
GOVWATCH_BACKOFF_MAX = 120.0
GOVWATCH_RETRY_AFTER_MAX = 300.0  # a longer Retry-After is an error for this run, not a wait

# Components a crawl of public pages does not use are switched off: each costs time on every page
# (Scrapy itself is most of the crawler's CPU time; see bench/crawler_bench.py).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # spiders set no allowed_domains
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.QuickMetaRefreshMiddleware": 580,
    "crawler.middlewares.BlockedHostMiddleware": 90,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.RetryAfterMiddleware": 560,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,  # listings are bounded by max_pages instead
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
EXTENSIONS = {
    "scrapy.extensions.corestats.CoreStats": None,
    "scrapy.extensions.logcount.LogCount": None,
    "scrapy.extensions.memusage.MemoryUsage": None,
    "scrapy.extensions.feedexport.FeedExporter": None,
    "scrapy.extensions.spiderstate.SpiderState": None,
    # Counts, errors and the final status of each account's crawl run.
    "crawler.ledger.RunLedgerExtension": 500,
}
# Crawl runs hold the numbers that matter; Scrapy's own stats would only be counted and dropped.
STATS_CLASS = "scrapy.statscollectors.DummyStatsCollector"
ITEM_PIPELINES = {
    "crawler.pipelines.ValidationPipeline": 100,
    "crawler.pipelines.StoragePipeline": 800,
}
GOVWATCH_BATCH_SIZE = 200  # posts per transaction
GOVWATCH_BATCH_SECONDS = 5.0  # ... or whatever arrived in this long, so a long crawl commits as it goes

# Scrapy starts this many asyncio tasks for every response's output; our pipelines are synchronous
# (storage batches in one transaction), so Scrapy's default of 100 only costs time: ~100 tasks per page.
CONCURRENT_ITEMS = 4
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "WARNING"
LOGSTATS_INTERVAL = 0
STATS_DUMP = False
REQUEST_FINGERPRINTER_CLASS = "scrapy.utils.request.RequestFingerprinter"
