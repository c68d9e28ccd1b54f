"""One message, end to end: the contract it must meet, its state machine, and the pipeline that answers it.

trigger (main.py) -> pipeline.handle_message: lifecycle.claim -> contract.parse_message -> the models
(classify, reply) -> sharing.similar -> lifecycle.finish -> observe (counters, the shadow).
"""
