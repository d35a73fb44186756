"""Synthetic stories for the stories tests (plain helpers, no fixtures): two unrelated stories,
a wire story republished by a second outlet, a count that rises, and two outlets that disagree.
Synthetic text drives CI tests only, never quality claims (those use evals/stories/)."""

from __future__ import annotations

from rag.ingest.canonical import make_article
from rag.models import Article

FLOOD = [
    ("flood-1", "Valtoria Herald", "2024-03-04", "Floods sweep through Valtoria river towns",
     "Heavy rain on Sunday sent the Marin River over its banks in Valtoria, flooding the towns of Esk and Doral. "
     "At least 12 people were killed, the Valtoria emergency ministry said on Monday. "
     "Rescue teams from the Valtoria Red Cross evacuated hundreds of residents from Esk overnight. "
     "Governor Lina Parrow declared a state of emergency across the Marin valley."),
    ("flood-2", "Coastal Times", "2024-03-06", "Valtoria flood death toll rises as Marin River crests",
     "The Marin River crested on Tuesday in Valtoria as the flood death toll rose to 19 people killed. "
     "Governor Lina Parrow toured Doral by boat and promised rebuilding funds. "
     "Engineers warned that the Esk dam had been damaged by the floodwaters on March 5. "
     "Schools across the Marin valley stayed closed for a third day."),
    ("flood-3", "Northern Post", "2024-03-09", "Valtoria begins cleanup after Marin River floods",
     "Residents of Esk returned home on Friday to begin clearing mud left by the Marin River floods in Valtoria. "
     "The Valtoria parliament approved an emergency fund of 40 million crowns on Thursday. "
     "Governor Lina Parrow said the Esk dam would be inspected by independent engineers. "
     "Officials said 30 people were injured in the floods."),
    ("flood-4", "Coastal Times", "2024-03-09", "Valtoria floods: injured count disputed",
     "Valtoria hospital officials in Doral said 45 people were injured in the Marin River floods, "
     "a higher count than other reports. "
     "The Valtoria Red Cross said aid convoys reached Doral on Thursday after the roads reopened. "
     "Governor Lina Parrow thanked volunteers from across the Marin valley."),
]
CHESS = [
    ("chess-1", "Board Weekly", "2024-03-05", "Norland chess championship opens in Kessel",
     "The Norland chess championship opened in Kessel on Tuesday with twelve grandmasters competing for the title. "
     "Defending champion Ada Voss drew her first game against Piet Lorne after a long endgame. "
     "The tournament runs for eleven rounds at the Kessel Opera House."),
    ("chess-2", "Kessel Daily", "2024-03-08", "Voss leads Norland chess championship after four rounds",
     "Ada Voss took the lead in the Norland chess championship in Kessel on Thursday after beating Jonas Hale. "
     "Voss, the defending champion, has three points from four games. "
     "Piet Lorne is half a point behind after a quick win with the black pieces."),
]
# A wire story: the same release republished by another outlet, with its own first line added.
WIRE = ("flood-2-wire", "Lakeside Gazette", "2024-03-06", "Valtoria flood death toll rises as Marin River crests")


def article(row: tuple, text: str | None = None) -> Article:
    article_id, source, published, title, body = row
    return make_article(id=article_id, title=title, text=text or body, source=source,
                        url=f"https://{source.lower().replace(' ', '')}.example/{article_id}", published=published)


def wire_copy() -> Article:
    body = dict((r[0], r[4]) for r in FLOOD)["flood-2"]
    return article((*WIRE, "Lakeside Gazette wire service. " + body))


def all_articles() -> list[Article]:
    return [article(r) for r in FLOOD + CHESS] + [wire_copy()]
