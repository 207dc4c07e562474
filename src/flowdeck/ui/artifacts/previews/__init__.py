"""The previewers; importing this package registers each of them."""
