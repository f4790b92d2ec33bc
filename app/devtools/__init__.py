"""Tools for trying the app on one machine; nothing here is imported by the app itself."""
