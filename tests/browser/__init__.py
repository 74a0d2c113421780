"""Tests in a real headless browser (Debian's Chromium driven by Playwright)."""
