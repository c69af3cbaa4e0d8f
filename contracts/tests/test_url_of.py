"""The url_of template filter gives exactly what {% url %} gives, or fails as it does."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse


def render(text: str, **context: object) -> str:
    return Template("{% load tessera_urls %}" + text).render(Context(context))


@pytest.mark.parametrize(
    "name,value",
    [
        ("asset_detail", 7),
        ("asset_detail", 9_223_372_036_854_775_807),
        ("asset_detail", "42"),
        ("team_detail", "data-platform"),
        ("team_detail", "team_2"),
        ("team_detail", 5),
        ("proposal_detail", 3),
    ],
)
def test_url_of_is_what_the_url_tag_gives(name, value):
    assert render("{{ v|url_of:name }}", v=value, name=name) == render("{% url name v %}", v=value, name=name)
    assert render("{{ v|url_of:name }}", v=value, name=name) == reverse(name, args=[value])


@pytest.mark.parametrize(
    "name,value", [("asset_detail", "abc"), ("asset_detail", -1), ("team_detail", "a b")]
)
def test_url_of_refuses_what_the_url_tag_refuses(name, value):
    with pytest.raises(NoReverseMatch):
        render("{% url name v %}", v=value, name=name)
    with pytest.raises(NoReverseMatch):
        render("{{ v|url_of:name }}", v=value, name=name)
