"""Local model serving in the GUI: the server manager, the launch dialog, the Servers page."""
