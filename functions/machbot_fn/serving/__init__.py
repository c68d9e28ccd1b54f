"""One message, end to end: the contract it must meet, its state machine, and the pipeline that answers it.

trigger (main.py) -> pipeline.handle_message: lifecycle.claim -> contract.parse_message ->
registry.models_for (every model, one call) -> classify -> sharing.similar.match -> reply ->
lifecycle.done -> observe (counters, the shadow); the answer is typed (answer.py) and becomes the
document's fields in one place.
"""
