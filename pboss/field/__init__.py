"""Field work: crews, their shifts and the assignment of work orders to them."""
