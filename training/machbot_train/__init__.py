"""machbot's training side: data, fine-tuning, evaluation, export and publishing."""
