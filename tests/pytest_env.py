"""Loaded with `-p tests.pytest_env` before Django is configured: test-only environment."""

import os
import tempfile

os.environ["GUNMANE_DATA_DIR"] = tempfile.mkdtemp(prefix="gunmane-test-")
os.environ["GUNMANE_TASKS"] = "immediate"  # tasks run inside the request; tests/web/test_jobs_worker.py runs a worker
os.environ.pop("GUNMANE_LANG", None)
