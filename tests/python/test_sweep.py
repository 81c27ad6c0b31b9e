"""Scenario sweeps: the table equals scenario-by-scenario runs, does not depend on the order,
and is the same on a Dask cluster (a LocalCluster of two worker processes); scenarios and
results pickle."""

from __future__ import annotations

import pickle

import polars as pl
import pytest

import fiscalrisk as fr


def grid() -> dict[str, fr.Scenario]:
    base = fr.examples.birmingham_2019()
    out = {}
    for response in (0.0, 0.25, 0.5):
        for gf in (100e6, 150e6):
            d = base.to_dict()
            # The costless management response, in place of the plan's budget set every year
            # (the two are alternatives).
            d.pop("budget_setting")
            d["plan"]["management_response"] = response
            d["reserves"]["general_fund"] = gf
            out[f"response={response}, general fund={gf / 1e6:.0f}m"] = fr.Scenario.from_dict(d)
    return out


TRIALS, SEED = 8_000, 11


@pytest.fixture(scope="module")
def local() -> pl.DataFrame:
    return fr.sweep(grid(), trials=TRIALS, seed=SEED)


def test_sweep_equals_one_run_per_scenario(local: pl.DataFrame) -> None:
    for label, scenario in grid().items():
        alone = scenario.simulate(trials=TRIALS, seed=SEED, progress=False)
        rows = local.filter(pl.col("scenario") == label)
        assert rows.drop("scenario", "p_exhausted_by_end").equals(alone.by_year())
        assert set(rows["p_exhausted_by_end"]) == {alone.p_exhausted}


def test_order_does_not_matter(local: pl.DataFrame) -> None:
    backwards = dict(reversed(list(grid().items())))
    again = fr.sweep(backwards, trials=TRIALS, seed=SEED)
    assert again.sort("scenario", "year").equals(local.sort("scenario", "year"))


def test_more_reserves_and_more_response_never_raise_exhaustion(local: pl.DataFrame) -> None:
    end = {r["scenario"]: r["p_exhausted_by_end"] for r in local.iter_rows(named=True)}
    for response in (0.0, 0.25, 0.5):
        assert end[f"response={response}, general fund=150m"] <= end[f"response={response}, general fund=100m"]


def test_labels_and_errors() -> None:
    s = fr.examples.birmingham_2019()
    with pytest.raises(fr.ValidationError, match="is already that of scenarios"):
        fr.sweep([s, s], trials=100)
    with pytest.raises(fr.ValidationError, match=r"scenarios\[0\]: expected a Scenario"):
        fr.sweep(["not a scenario"], trials=100)  # type: ignore[list-item]
    with pytest.raises(fr.ValidationError, match="none given"):
        fr.sweep({}, trials=100)


def test_scenarios_and_results_pickle() -> None:
    s = fr.examples.birmingham_2019()
    s2 = pickle.loads(pickle.dumps(s))
    assert s2 == s and s2.source_text == s.source_text
    r = s.simulate(trials=20_000, seed=3, progress=False)
    r2 = pickle.loads(pickle.dumps(r))
    assert r2 == r
    assert r2.by_year().equals(r.by_year()) and r2.drivers().equals(r.drivers())
    assert r2.resilience().equals(r.resilience())
    assert r2.reverse_stress().probability == r.p_exhausted


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_dask_local_cluster_gives_the_same_table(local: pl.DataFrame) -> None:
    from dask import distributed  # in the test extras: CI runs this
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = fr.sweep(grid(), trials=TRIALS, seed=SEED, client=client)
            assert len(client.scheduler_info()["workers"]) == 2
    assert remote.equals(local)
