"""How a person's teams are named where they choose among them: by name, or by name and
address when another of the teams offered has the same name ignoring case (teams made by
different people may: "Studio" and "studio"), so that no two choices read the same."""

from collections import Counter


def labels(teams) -> dict[int, str]:
    """Each team's label among `teams`, by id."""
    teams = list(teams)
    names = Counter(team.name.casefold() for team in teams)
    return {team.pk: f"{team.name} ({team.slug})" if names[team.name.casefold()] > 1 else team.name for team in teams}


def choices(teams) -> list[tuple[str, str]]:
    """(slug, label) of each team, in the order given: a select's options."""
    teams = list(teams)
    named = labels(teams)
    return [(team.slug, named[team.pk]) for team in teams]
