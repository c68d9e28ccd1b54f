"""What serves and how it runs: the bucket's registry and manifests, routing, and the ONNX runtimes.

registry.ModelRegistry reads CURRENT / ROUTING, downloads and verifies a version (manifest,
checksums) and builds its runtime (classifier, replier, embedder: all on runtime.py), whose
`smoke_test()` must pass before it serves. A message asks it once: `models_for`.
"""
