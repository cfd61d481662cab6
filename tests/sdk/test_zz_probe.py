import loopline, pytest
CALLS = {
 "get_run_empty": lambda c: c.get_run(""),
 "get_run_slash": lambda c: c.get_run("a/b"),
 "exp_by_name_slash": lambda c: c.get_experiment_by_name("team/proj"),
 "list_exp_max0": lambda c: c.list_experiments(max_results=0),
 "list_exp_view": lambda c: c.list_experiments(view="bogus"),
 "search_view": lambda c: c.search_runs(c.create_experiment("e"), view="bogus"),
 "search_empty": lambda c: c.search_runs([]),
 "get_exp_empty": lambda c: c.get_experiment(""),
 "get_exp_dot": lambda c: c.get_experiment(".."),
 "hist_empty_run": lambda c: c.get_metric_history("", "m"),
 "del_exp_empty": lambda c: c.delete_experiment(""),
 "read_dotdot_run": lambda c: c.read_artifact("..", "x"),
 "setexp_slash_twice": lambda c: (loopline.set_experiment("team/proj"), loopline.set_experiment("team/proj")),
}
@pytest.mark.parametrize("name", CALLS)
def test_probe(mode, client, name):
    try:
        r = CALLS[name](client)
        print("\nRESULT", mode, name, repr(r)[:200])
    except BaseException as e:
        print("\nRESULT", mode, name, type(e).__name__, str(e)[:200])
