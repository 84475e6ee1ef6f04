"""Build-time only: the labelled corpus, the encoder's one-off export and the heads' training.

Nothing here is imported when Hearth runs; these scripts need the build requirements in
moderation/training/README.md (PyTorch among them), which the running app never installs.
"""
