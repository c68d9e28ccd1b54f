"""machbot's serving logic: everything the Cloud Function does, testable without a cloud."""
