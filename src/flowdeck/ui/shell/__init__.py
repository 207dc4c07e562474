"""The app shell: page host, navigation, context, commands, write path and jobs."""
