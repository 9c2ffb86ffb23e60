from training.gradcheck import checks


def test_autograd_matches_finite_differences_for_every_pooling():
    results = dict(checks())
    assert len(results) == 7
    assert [name for name, passed in results.items() if not passed] == []
