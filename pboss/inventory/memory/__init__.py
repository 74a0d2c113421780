"""The embedded store: the resource graph in a networkx MultiDiGraph, with its transactions,
views and scans."""
