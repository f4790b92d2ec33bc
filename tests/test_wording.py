from app.wording import counted


def test_a_count_reads_with_its_noun_singular_only_for_one_and_thousands_separated():
    assert counted(1, "contact") == "1 contact"
    assert counted(0, "contact") == "0 contacts"
    assert counted(2500, "recipient") == "2,500 recipients"
    assert counted(3, "address", "addresses") == "3 addresses"
