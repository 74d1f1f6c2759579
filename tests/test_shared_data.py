"""CI cannot pass by skipping: without ../shared/ the tests that need it fail when CI asks
(AGENTPORTAL_REQUIRE_SHARED, set by .ci/run), and the fidelity tests fail if they read nothing."""

from __future__ import annotations

import pytest

from . import test_fidelity
from .conftest import CORPUS, shared_file


def test_absent_shared_data_is_a_skip_for_a_developer(tmp_path, monkeypatch):
    monkeypatch.delenv("AGENTPORTAL_REQUIRE_SHARED", raising=False)

    with pytest.raises(BaseException, match="is absent") as outcome:
        shared_file(tmp_path / "absent")
    assert outcome.type is pytest.skip.Exception


def test_absent_shared_data_is_a_failure_when_ci_requires_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTPORTAL_REQUIRE_SHARED", "1")

    # Caught whatever it is, so that a skip fails this test instead of skipping it.
    with pytest.raises(BaseException, match="is absent") as outcome:
        shared_file(tmp_path / "absent")
    assert outcome.type is pytest.fail.Exception


def test_the_fidelity_tests_fail_when_the_corpus_holds_no_files(tmp_path, monkeypatch):
    monkeypatch.setattr(test_fidelity, "CORPUS", tmp_path)

    with pytest.raises(AssertionError, match="the fidelity tests would measure nothing"):
        test_fidelity.corpus_files()


def test_the_fidelity_tests_read_the_corpus():
    assert len(test_fidelity.corpus_files()) == len(list(shared_file(CORPUS).rglob("*.md")))
