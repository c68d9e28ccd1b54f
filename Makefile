# machbot: the two commands (see README.md). Both install what they need first (scripts/setup.sh).
.PHONY: run test setup tf-setup lint

run: ## run machbot locally: emulators, function, default models, web app (Ctrl-C stops)
	scripts/setup.sh
	.venv/bin/machbot run $(ARGS)

test: ## the whole test suite against the real emulators; exits with its status
	scripts/test.sh $(ARGS)

setup:
	scripts/setup.sh --browser

tf-setup: ## the optional TensorFlow import environment .venv-tf (machbot import-tf)
	scripts/setup.sh --tf

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
