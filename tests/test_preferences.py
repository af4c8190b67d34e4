import pytest

from preferences.models import HistoryPreferences

pytestmark = pytest.mark.django_db


def test_defaults_until_the_person_chooses_are_not_written(alice):
    prefs = HistoryPreferences.for_user(alice)
    assert prefs.pk is None
    assert prefs.layout == HistoryPreferences.Layout.CARDS
    assert prefs.columns == []
    assert not HistoryPreferences.objects.exists()


def test_saved_choices_are_read_back(alice, bob):
    HistoryPreferences.objects.create(user=alice, layout=HistoryPreferences.Layout.TABLE, columns=["title", "status"])
    assert HistoryPreferences.for_user(alice).layout == HistoryPreferences.Layout.TABLE
    assert HistoryPreferences.for_user(alice).columns == ["title", "status"]
    assert HistoryPreferences.for_user(bob).layout == HistoryPreferences.Layout.CARDS
