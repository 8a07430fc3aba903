"""Records of issued documents and the write-once blob store (archive/ is the source of truth)."""
