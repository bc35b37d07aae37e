"""Entry points: the command line and the web server, each a thin edge over the application."""
