"""Partner feeds: mapping files, Chinese address normalisation, site matching, CSV sources."""

from pboss.loaders.feeds.mapping import FeedMapping, load_mapping
from pboss.loaders.feeds.source import FeedSource

__all__ = ["FeedMapping", "FeedSource", "load_mapping"]
