"""Scheduled jobs (crawl, classify, score, report) and the APScheduler runner."""
