"""Work queued for workers: the unit of work (`unit`), the queue contract and its registry (`base`), engines."""
