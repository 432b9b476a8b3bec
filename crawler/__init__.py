"""The crawler: Scrapy spiders that read the four source kinds and store posts through `store`."""
