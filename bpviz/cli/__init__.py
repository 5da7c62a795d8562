"""Headless command-line tools: ``train``, ``gradcheck``, ``download``. No Qt."""
