# fmipdissect: `make run` sets up and checks the bundled samples,
# `make test` sets up and runs the test suite.  See README.md.
PY := .venv/bin/python
BIN := .venv/bin
PURE_TESTS := tests/unit tests/lint tests/handovers/test_handovers_samples.py

.PHONY: setup run test samples lua docs regen bench stress fuzz clean

setup:
	@bash scripts/setup.sh

run: setup
	@echo "== fmip-lint on the conformant samples (expect no errors) =="
	$(BIN)/fmip-lint --keys samples/keys.txt samples/predictive.pcap samples/reactive.pcap samples/network-initiated.pcap samples/rejected.pcap samples/ncoa.pcap
	@echo
	@echo "== fmip-lint on samples/violations.pcap (every finding is intended; exit status 1) =="
	@$(BIN)/fmip-lint --keys samples/keys.txt samples/violations.pcap; \
	  status=$$?; [ $$status -eq 1 ] && echo "(exit status 1, as intended: every finding above is documented in docs/samples.md)" \
	  || { echo "unexpected exit status $$status" >&2; exit 1; }
	@echo
	@echo "== fmipdissect decode samples/predictive.pcap =="
	$(BIN)/fmipdissect decode samples/predictive.pcap
	@echo
	@echo "== fmipdissect handovers on the samples (report with ladder diagrams: handovers.html) =="
	$(BIN)/fmipdissect handovers --html handovers.html samples/predictive.pcap samples/reactive.pcap samples/network-initiated.pcap samples/rejected.pcap samples/ncoa.pcap
	@echo
	@echo "== fmipdissect handovers --merge: one network from four nodes, clocks aligned, the MN's traffic (report: handovers-merged.html) =="
	$(BIN)/fmipdissect handovers --merge --html handovers-merged.html samples/vantage/mn.pcap samples/vantage/par.pcap samples/vantage/nar.pcap samples/vantage/cn.pcap

# The suite runs with the C accelerator of the capture reader (when built),
# then the reader's and the checker's tests again on the pure-Python path.
test: setup
	$(BIN)/python -m pytest -n 2 -q
	@echo "== again on the pure-Python path (FMIPDISSECT_PURE=1) =="
	FMIPDISSECT_PURE=1 $(BIN)/python -m pytest -n 2 -q $(PURE_TESTS)

# Regenerate every generated, committed file.
regen: samples lua docs

samples: setup
	$(BIN)/python -m fmipdissect.gen.samples --write-samples samples --write-docs docs/samples.md

lua: setup
	$(BIN)/fmipdissect lua -o lua/fmip.lua

docs: setup
	$(BIN)/python -m fmipdissect.lint.docs -o docs/rules.md
	$(BIN)/python -m fmipdissect.active.docs docs/active-testing.md
	COLUMNS=80 $(BIN)/python -m fmipdissect.manual --write share

# BASE: the commit whose machine instructions per FMIPv4 message are
# printed beside the tree's (bench/instructions.py; default 46225f2)
bench: setup
	$(BIN)/python bench/run.py $(if $(BASE),--base $(BASE))
	$(BIN)/python bench/merge.py

# Hostile captures at 10k, 100k and 1M (time, peak RSS, output size, growth).
stress: setup
	$(BIN)/python bench/stress.py

fuzz: setup
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install -q atheris \
		|| echo "fuzz: atheris could not be installed; bench/fuzz.py falls back to its random-mutation loop"
	$(BIN)/python bench/fuzz.py

clean:
	rm -rf .venv build *.egg-info .pytest_cache
