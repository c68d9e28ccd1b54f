"""`machbot bench`: the performance suite. One module per measurement, each with its baseline run
side by side in the same run on the same messages; `runner.run_bench` runs them all and `report`
writes results.json, report.md and PNG plots.

- classifiers: int8 ONNX vs fp32 ONNX vs PyTorch eager, batch 1, one thread
- replies: the ONNX greedy loop (key/value cache and whole prefix) vs transformers generate()
- cold_start: the registry (cold, then cached by version) vs download + load per message
- memory: RSS with every model resident vs the process before loading; latency as models are added
- length: cost from 8 to 512 tokens, with and without the manifest's truncation
- e2e: write -> reply through the emulators, cold and warm, and 1/2/4/8 concurrent writers
"""
