"""One spider per source kind: feed, wechat, weibo, govsite."""

from __future__ import annotations

from crawler.spiders.feed import FeedSpider
from crawler.spiders.govsite import GovsiteSpider
from crawler.spiders.wechat import WechatSpider
from crawler.spiders.weibo import WeiboSpider

SPIDERS = {spider.kind: spider for spider in (FeedSpider, WechatSpider, WeiboSpider, GovsiteSpider)}

__all__ = ["SPIDERS", "FeedSpider", "GovsiteSpider", "WechatSpider", "WeiboSpider"]
