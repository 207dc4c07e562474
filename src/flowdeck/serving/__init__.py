"""Model-serving launcher logic (Qt-free): argv, ports, health, request building."""
