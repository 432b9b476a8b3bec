# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint typecheck clean check-system

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The Debian packages in .ci/debian-packages (browser tests, CJK fonts for PDFs, pdftoppm).
check-system:
	@missing=""; for pkg in $$(grep -v '^#' .ci/debian-packages); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "missing Debian packages:$$missing"; \
	  echo "install them with: sudo apt-get install -y$$missing"; exit 1; fi

demo: $(STAMP) check-system
	$(BIN)/govwatch demo

test: $(STAMP) check-system
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy store crawler classifier scheduler reports web govwatch

clean:
	rm -rf $(VENV) var build *.egg-info
