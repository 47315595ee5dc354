"""The demo mesh: four venue nodes in one process, with locally made sample works."""
