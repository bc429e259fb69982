"""Tests that run the real app in headless Chromium (Playwright): navigation, layout, axe."""
