"""Builds evals/intent_questions.jsonl, the labelled questions `evals/fit_intent.py` trains the
intent classifier on. Two kinds of row:

- outside questions, verbatim: RealTimeQA half A, a seeded sample of SQuAD v1.1 half A and of CLAP
  NQ half A. Labelled `when` when they ask for a date or year, else `factoid` (these sets hold
  only single-fact questions);
- paraphrase templates written for this file, one group per template, filled with news topics,
  speakers and reference dates that are not from the bundled or test question sets. They carry
  the intents the outside sets lack: summary, latest, compare, timeline, changes (and some news
  factoid / when questions so that a news topic alone does not pull a question away from them).

Every row: {"question", "intent", "source", "group"}; `group` keeps a template's fillings together
in cross-validation (evals/fit_intent.py), so held-out accuracy is measured on unseen phrasings.
Rows equal to a question in evals/corpus_questions.jsonl or evals/news_test_questions.jsonl are
dropped.

    python -m evals.intent_data --datasets ../shared/datasets --out evals/intent_questions.jsonl
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import click

SEED = 0
SQUAD_SAMPLE = 240
CLAPNQ_SAMPLE = 60
# Date questions are ~7% of a random sample: this many more are drawn from each of SQuAD and CLAP
# NQ's date questions, so the classifier sees the many ways a date is asked for (not only "When did").
EXTRA_WHEN = 40
FILLS_PER_TEMPLATE = 4
# A date question's form, not its topic, makes it one: its templates get more topics.
WHEN_FILLS = 8

_WHEN = re.compile(r"^\s*(when|(in |on |by )?(what|which) (year|date|day|month|century|decade)|how long ago)\b", re.I)

_LATER_QUESTION = re.compile(r",\s*(what|which|who|whom|how|where|why)\b", re.I)

TOPICS = [
    "the Gaza ceasefire talks", "the Federal Reserve's rate decisions", "the Boeing 737 MAX investigation",
    "the UK general election", "Taiwan's presidential election", "the Red Sea shipping attacks",
    "the Hollywood writers' strike", "the Paris Olympics", "the Artemis moon program", "the TikTok ban",
    "the Iowa caucuses", "the war in Sudan", "the EU AI Act", "the Panama Canal drought", "the Maui wildfires",
    "the OpenAI board dispute", "the Tesla recall", "the Japan earthquake", "Argentina's presidential race",
    "the US debt ceiling fight", "the Israel-Hezbollah border clashes", "China's property crisis",
    "the Haiti security mission", "the climate summit in Dubai", "the Champions League final",
    "the measles outbreak", "the bird flu outbreak", "the Baltimore bridge collapse", "the Microsoft outage",
    "the South Korean doctors' strike", "France's pension reform", "the NATO summit", "the Ukraine peace talks",
    "the interstellar comet", "the Eurovision boycott", "the Premier League title race", "the farmers' protests in Europe",
    "the Supreme Court immunity case", "the shutdown negotiations in Congress", "the Venezuela election dispute",
]
PAIRS = [
    ("Biden", "Trump"), ("the EU", "the United States"), ("Israel", "Hamas"), ("Apple", "Microsoft"),
    ("Labour", "the Conservatives"), ("China", "Japan"), ("NASA", "SpaceX"), ("the Fed", "the European Central Bank"),
    ("Boeing", "Airbus"), ("the union", "the studios"), ("Macron", "Scholz"), ("the prosecution", "the defence"),
    ("Netflix", "Disney"), ("the governor", "the mayor"), ("Kyiv", "Moscow"), ("the UN", "NATO"),
    ("the White House", "Congress"), ("the players", "the league"),
]
SPEAKERS = ["the president", "the minister", "the spokesperson", "the CEO", "officials", "the prime minister",
            "the UN secretary-general", "the police", "the mayor", "the health agency"]
PEOPLE = ["Emmanuel Macron", "Elon Musk", "Pope Francis", "Rishi Sunak", "Narendra Modi", "Olaf Scholz",
          "Antony Blinken", "Ursula von der Leyen", "Xi Jinping", "Jerome Powell", "Keir Starmer", "António Guterres"]
SINCE = ["last week", "the summit", "January", "the election", "Monday", "the ceasefire began", "March 3",
         "the last round of talks", "the weekend", "the vote", "my last update", "the court ruling"]

TEMPLATES: dict[str, list[str]] = {
    "summary": [
        "Summarise {t}.", "Can you sum up {t}?", "Give me an overview of {t}.", "What's the gist of {t}?",
        "Tell me about {t}.", "Brief me on {t}.", "What happened with {t}?", "What were the main points of {t}?",
        "Explain {t} in a few sentences.", "What do the articles say about {t}?", "Give me the key facts about {t}.",
        "What did {p} say about {t}?", "What was announced about {t}?", "Recap {t} for me.",
        "I missed {t}, what's the story?", "What is {t} all about?",
        "What did {n} say about {t}?", "What did {n} tell reporters after {t}?", "What has {n} said on {t}?",
        "What did {n} announce about {t}?", "What did the report on {t} say?", "What did {n} say after {t}?",
    ],
    "latest": [
        "What's the latest on {t}?", "Any news on {t}?", "What is the most recent development in {t}?",
        "Where do things stand with {t} now?", "Give me the newest update on {t}.",
        "What's going on with {t} right now?", "Is there anything new about {t}?", "What's the current state of {t}?",
        "Latest headlines about {t}?", "What has happened most recently in {t}?", "Update me on {t}.",
        "What are the freshest reports on {t}?", "How are things with {t} at the moment?",
    ],
    "compare": [
        "Compare how {a} and {b} see {t}.", "How do {a} and {b} differ on {t}?",
        "What's the difference between {a}'s and {b}'s positions on {t}?", "{a} versus {b}: who said what about {t}?",
        "How did {a} and {b} each react to {t}?", "Contrast {a}'s view of {t} with {b}'s.",
        "Do {a} and {b} agree about {t}?", "Where do {a} and {b} stand on {t}, side by side?",
        "How does {a}'s account of {t} compare with {b}'s?",
        "What did {a} say about {t}, and how does that compare with {b}?", "How do {a} and {b} describe {t}?",
        "Which is more optimistic about {t}, {a} or {b}?", "How did {a} and {b} describe {t}?",
        "How did {a} and {b} characterise {t}?", "What did {a} and {b} each say about {t}?",
        "How did {a}'s statement and {b}'s remarks on {t} differ?",
    ],
    "timeline": [
        "How did {t} develop?", "Give me a timeline of {t}.", "What happened with {t} over time?",
        "Walk me through {t} from the start.", "How has {t} unfolded?", "Trace the history of {t}.",
        "What were the key steps in {t}, in order?", "How did {t} evolve over the past months?",
        "Lay out the sequence of events in {t}.", "Chronology of {t}, please.",
        "How did we get to where we are on {t}?", "What happened first, and what came next, in {t}?",
        "Show the course of {t} from the beginning until now.",
    ],
    "changes": [
        "What changed in {t} since {d}?", "What's new on {t} since {d}?", "What has shifted in {t} since {d}?",
        "Since {d}, what's different about {t}?", "What developments have there been in {t} since {d}?",
        "How has {t} changed since {d}?", "Anything new in {t} since {d}?", "What moved on {t} after {d}?",
        "What's changed about {t} since I last checked?", "What is different now in {t} compared with {d}?",
        "Since I last looked, what's new with {t}?", "What updates on {t} have come out since {d}?",
    ],
    "when": [
        "When did {t} begin?", "When is the next vote on {t}?", "On what date was {t} announced?",
        "What day did {t} start?", "When will {t} wrap up?", "In which month did {t} happen?",
        "What year did {t} start?", "When are results of {t} expected?", "What time does {t} start?",
        "When was the agreement on {t} signed?", "By what date must {t} be settled?",
        "When did officials first warn about {t}?", "When is {t} scheduled to happen?",
        "When will we know the outcome of {t}?", "What date is set for {t}?",
    ],
    "factoid": [
        "Who is leading {t}?", "How many people were affected by {t}?", "Where did {t} take place?",
        "Which country hosted {t}?", "What caused {t}?", "Why did {t} happen?", "How much money is involved in {t}?",
        "Which official is in charge of {t}?", "What did {t} decide about tariffs?", "How many votes did {t} need?",
        "What is the name of the envoy handling {t}?", "How much has {t} cost so far?",
        "Who won the vote on {t}?", "What weapon was used in {t}?",
        # News factoids on the same topics as the other intents' templates, so that a topic's words
        # do not stand for an intent (the outside factoids are mostly not about the news).
        "Who is the lead negotiator in {t}?", "How many points does the proposal on {t} contain?",
        "Where were the meetings about {t} held?", "Which envoy was involved in {t}?",
        "Who denied playing a part in {t}?", "How many people died in {t}?", "Which countries pulled out of {t}?",
        "Which missile was fired during {t}?",
        "What resolution did the council pass on {t}?", "How much territory changed hands in {t}?",
        "Who will make the final decision on {t}?", "What concessions are demanded in {t}?",
        "Is {t} a threat to the public?", "Did {p} approve the plan for {t}?", "Who leaked the details of {t}?",
        "How many prisoners were released as part of {t}?", "What sanctions were imposed over {t}?",
        "Which region is at the centre of {t}?", "What must any deal on {t} guarantee?",
        "Who represented the United States at {t}?",
    ],
}


def template_rows(rng: random.Random) -> list[dict]:
    rows = []
    for intent, templates in TEMPLATES.items():
        for n, template in enumerate(templates):
            for _ in range(WHEN_FILLS if intent == "when" else FILLS_PER_TEMPLATE):
                a, b = rng.choice(PAIRS)
                text = template.format(t=rng.choice(TOPICS), a=a, b=b, p=rng.choice(SPEAKERS), d=rng.choice(SINCE),
                                       n=rng.choice(PEOPLE))
                rows.append({"question": text[0].upper() + text[1:], "intent": intent, "source": "template",
                             "group": f"template:{intent}:{n}"})
    return rows


def outside_label(question: str) -> str:
    # "When B cells replicate, what do they become?": a clause, then the real (factoid) question.
    if _WHEN.search(question) and not _LATER_QUESTION.search(question):
        return "when"
    return "factoid"


def outside_rows(datasets: Path, rng: random.Random) -> list[dict]:
    rows = []
    for line in (datasets / "realtimeqa" / "questions-2024q1.half-a.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            rows.append({"question": rec["question"], "source": "realtimeqa-half-a", "group": f"rtqa:{rec['question_id']}"})
    squad = json.loads((datasets / "squad-v1.1" / "dev-half-a.json").read_text(encoding="utf-8"))
    squad_qs = [(qa["id"], qa["question"]) for art in squad["data"] for p in art["paragraphs"] for qa in p["qas"]]
    picked = rng.sample(squad_qs, SQUAD_SAMPLE)
    picked += _extra_when([x for x in squad_qs if x not in picked], rng)
    rows += [{"question": q, "source": "squad-v1.1-half-a", "group": f"squad:{i}"} for i, q in picked]
    clap = []
    for name in ("clapnq_dev_answerable.half-a.jsonl", "clapnq_dev_unanswerable.half-a.jsonl"):
        for line in (datasets / "clapnq" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                clap.append((rec["id"], rec["input"].strip()))
    picked = rng.sample(clap, CLAPNQ_SAMPLE)
    for i, q in picked + _extra_when([x for x in clap if x not in picked], rng):
        rows.append({"question": q[0].upper() + q[1:] + ("" if q.endswith("?") else "?"), "source": "clapnq-half-a",
                     "group": f"clapnq:{i}"})
    for row in rows:
        row["intent"] = outside_label(row["question"])
    return rows


def _extra_when(pool: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    dated = [x for x in pool if outside_label(x[1]) == "when"]
    return rng.sample(dated, min(EXTRA_WHEN, len(dated)))


def project_questions(root: Path) -> set[str]:
    out = set()
    for name in ("corpus_questions.jsonl", "news_test_questions.jsonl"):
        for line in (root / "evals" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.add(_key(json.loads(line)["question"]))
    return out


def _key(question: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", question.lower()).split())


@click.command()
@click.option("--datasets", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="The shared datasets folder (realtimeqa/, squad-v1.1/, clapnq/).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("evals/intent_questions.jsonl"), show_default=True)
def main(datasets: Path, out: Path) -> None:
    rng = random.Random(SEED)
    rows = outside_rows(datasets, rng) + template_rows(rng)
    banned = project_questions(Path(__file__).resolve().parent.parent)
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = _key(row["question"])
        if key in banned or key in seen:
            continue
        seen.add(key)
        kept.append({k: row[k] for k in ("question", "intent", "source", "group")})
    with out.open("w", encoding="utf-8") as fh:
        for row in kept:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    by_intent: dict[str, int] = {}
    for row in kept:
        by_intent[row["intent"]] = by_intent.get(row["intent"], 0) + 1
    outside = sum(1 for r in kept if r["source"] != "template")
    click.echo(f"{len(kept)} questions ({outside} from outside datasets) -> {out}; by intent {by_intent}")


if __name__ == "__main__":
    main()
