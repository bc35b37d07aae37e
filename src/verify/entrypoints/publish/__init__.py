"""`verify publish`: a static public archive that opens from the file system or any host.

Another entry point beside the command line and the web: it reads the store
through the application's public forms and writes HTML (no JavaScript), the
public exports, the seal and each incident's inclusion proof (docs/publication.md).
"""
