"""The event hub (TMF688 style): listeners register callbacks, a delivery worker POSTs each
committed event to them, signed, in order, at least once; dead letters wait for a replay."""
