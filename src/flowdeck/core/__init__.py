"""Pure-Python core of Flowdeck: entities, errors, filters, frames; no Qt, SQL or HTTP."""
