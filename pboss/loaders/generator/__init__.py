"""The synthetic metro generator (`pboss generate`)."""

from pboss.loaders.generator.generate import GenerateSummary, generate
from pboss.loaders.generator.scales import SCALES, Scale

__all__ = ["SCALES", "GenerateSummary", "Scale", "generate"]
