# Developer shortcuts; the scripts under deploy/local/ are the source of truth.
VENV := .venv/bin

.PHONY: bootstrap stack-up stack-down stack-status format lint typecheck test run

bootstrap:
	bash deploy/local/bootstrap.sh

stack-up:
	bash deploy/local/stack.sh up

stack-down:
	bash deploy/local/stack.sh down

stack-status:
	bash deploy/local/stack.sh status

format: bootstrap
	$(VENV)/ruff check --fix .
	$(VENV)/ruff format .

lint: bootstrap
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: bootstrap
	$(VENV)/mypy .

# The whole suite, as CI runs it; pass pytest arguments with ARGS="tests/deploy -x".
test:
	bash deploy/local/test.sh $(ARGS)

run:
	bash deploy/local/run.sh
