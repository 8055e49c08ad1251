"""The team's own development questions over the five seed articles (written 2026-12-01, before any tuning).

Two sets, in the seed JSONL format of ``eval_data/seed_dev.jsonl`` plus a ``kind`` field:
``seed_own_dev.jsonl`` (thresholds and choices are made on it) and ``seed_own_holdout.jsonl`` (reported only,
never used to choose anything). Run ``python dev_data/questions.py`` to rewrite both after editing; every quote
is checked to be a verbatim span of its source article.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

A = "000_0c62668bd953e794.txt"  # Albania authorizes KAYO
D = "001_6b5fe14106b636da.txt"  # the joint declaration
Z = "002_6b05f74da55235ca.txt"  # Zelensky at the summit
P = "003_0a3dde30e4285642.txt"  # the pact into action
K = "004_299ba8388898a818.txt"  # Kosovo and NATO

# (kind, question, history, [(source, quote), ...], [answer terms], answerable, split)
Q = [
    # -- paraphrases: none (or few) of the answer's key words ---------------------------------------------------
    (
        "paraphrase",
        "What did the government in Tirana allow the state-run company to do?",
        [],
        [
            (A, "to manufacture weapons and ammunition"),
            (A, "to engage in the production of weapons and ammunition"),
            (A, "to produce weapons and ammunition"),
        ],
        ["weapons|arms"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Why does Albania want to make its own munitions?",
        [],
        [
            (A, "aims to bolster Albania’s military capabilities"),
            (A, "reduced reliance on foreign arms suppliers"),
            (A, "Albania aims to improve its defense posture"),
            (A, "seeks to enhance its self-reliance in defense production"),
        ],
        [],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Will the new arms maker bring employment?",
        [],
        [(A, "expected to create jobs and stimulate local economies"), (A, "potentially stimulating local industry")],
        ["jobs|industry"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Is the factory meant only for the country's own army, or for foreign buyers too?",
        [],
        [(A, "meet both domestic and export demands")],
        ["export"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Which international agreement on the weapons trade is mentioned?",
        [],
        [(A, "Arms Trade Treaty")],
        ["Arms Trade Treaty"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "How could Albania keep the guns it makes from ending up in the wrong hands?",
        [],
        [
            (A, "rigorous checks and balances to prevent misuse of produced arms"),
            (A, "Avoiding potential arms proliferation"),
            (A, "Fostering transparency in arms sales and exports"),
        ],
        [],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Which outlet published the piece about the state firm?",
        [],
        [(A, "stay connected with The Defense Post")],
        ["Defense Post"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Is the company expected to put money into developing more advanced arms?",
        [],
        [(A, "Increase investment in research and development for advanced weaponry")],
        ["research"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "What improvements is the firm already negotiating?",
        [],
        [(A, "KAYO is already in discussions to upgrade its facilities and workforce")],
        ["facilities|workforce"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Who put their names to the defence cooperation pact?",
        [],
        [
            (D, "Albania, Kosovo, and Croatia have united to sign a joint declaration"),
            (D, "signing of the joint declaration of cooperation on defense by albania, Kosovo, and Croatia"),
        ],
        ["Albania", "Kosovo", "Croatia"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "How will the partners protect themselves against hackers?",
        [],
        [
            (D, "Strengthening defenses against cyber threats through shared strategies"),
            (P, "countering hybrid threats, such as cyberattacks and disinformation campaigns"),
            (D, "Creating frameworks for cooperative defense against cyber threats"),
            (P, "Collaborative efforts to combat hybrid threats like cyberattacks and disinformation"),
        ],
        ["cyber"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "How do the three governments hope to spend less on their armed forces?",
        [],
        [
            (P, "expected to lead to lower costs and faster delivery times"),
            (P, "Coordinated weapons procurement to reduce costs"),
            (D, "shared logistics, equipment, and support systems to optimize defense budgets"),
            (D, "Pooling resources for logistics and procurement to strengthen defense budgets"),
        ],
        [],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Could the deal inspire neighbouring states to do something similar?",
        [],
        [(D, "encourage other Balkan states to engage in similar cooperation")],
        ["similar cooperation"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Besides war, which emergencies will the partners handle together?",
        [],
        [(D, "coordinating responses in humanitarian and disaster relief operations")],
        ["disaster"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "What does building weapons jointly actually involve?",
        [],
        [(Z, "involves countries working together to develop and manufacture military equipment and weapons")],
        [],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "What could Kyiv gain from building arms with its neighbours?",
        [],
        [(Z, "access to advanced military technology and expertise")],
        ["technology"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Which country is Ukraine at war with?",
        [],
        [(Z, "particularly in its conflict with Russia"), (Z, "the threat posed by its eastern neighbor")],
        ["Russia"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "What did the Ukrainian leader say about his country entering the Atlantic alliance?",
        [],
        [(Z, "reiterated Ukraine’s commitment to joining the Western military alliance")],
        ["commitment"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "When will the defence ministries receive the implementation handbook?",
        [],
        [(P, "a finalized guide set for presentation to the respective defense ministries in September")],
        ["September"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "From which country do the partners want to buy their weapons together?",
        [],
        [(P, "particularly from the United States")],
        ["United States"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Who foots the bill for the shared orders?",
        [],
        [(P, "with each nation funding its own portion of the purchases")],
        ["own portion"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "How did Washington's defence department take the pact?",
        [],
        [(P, "the Pentagon and NATO countries have welcomed the agreement")],
        ["welcomed"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Is the trilateral initiative a new alliance?",
        [],
        [(P, "clarifying that it does not constitute a military alliance")],
        ["does not constitute"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "How does Pristina intend to draw in more participants?",
        [],
        [(P, "Kosovo plans to use an upcoming charter meeting")],
        ["charter meeting"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Which NATO states have not accepted Kosovo's independence?",
        [],
        [(K, "including Spain, Greece, and Slovakia")],
        ["Spain", "Greece", "Slovakia"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Why is Belgrade an obstacle to Kosovo's membership bid?",
        [],
        [(K, "which continues to consider Kosovo as part of its territory")],
        ["territory"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "What would allied security guarantees mean for Kosovo?",
        [],
        [(K, "Formal commitments from allied nations to defend Kosovo if necessary")],
        ["defend"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Which nearby countries have already shown Kosovo the way by joining their forces with NATO's?",
        [],
        [(K, "countries such as Albania and North Macedonia have paved pathways")],
        ["North Macedonia"],
        True,
        "dev",
    ),
    (
        "paraphrase",
        "Should Kosovo spend more on its military?",
        [],
        [(K, "A commitment to progressively increase defense spending")],
        ["spending"],
        True,
        "holdout",
    ),
    (
        "paraphrase",
        "Where did the specialists meet to turn the declaration into practice?",
        [],
        [(P, "Expert groups convened in Tirana in July")],
        ["Tirana"],
        True,
        "dev",
    ),
    # -- casual typing, typos, no capitals or question mark --------------------------------------------------------
    (
        "typo",
        "wat did croatia say abt the pact being an aliance",
        [],
        [(P, "clarifying that it does not constitute a military alliance")],
        ["military alliance"],
        True,
        "dev",
    ),
    ("typo", "kayo export plans", [], [(A, "meet both domestic and export demands")], ["export"], True, "dev"),
    (
        "typo",
        "which countrys dont recognise kosovo",
        [],
        [(K, "including Spain, Greece, and Slovakia")],
        ["Spain"],
        True,
        "holdout",
    ),
    (
        "typo",
        "zelenksy summit were was it",
        [],
        [(Z, "The summit, which took place in Kyiv"), (Z, "Balkan summit in Albania")],
        ["Kyiv|Albania"],
        True,
        "dev",
    ),
    (
        "typo",
        "joint recruitmnt programmes albania kosovo croatia",
        [],
        [(P, "working together on recruitment programs")],
        ["recruitment"],
        True,
        "dev",
    ),
    (
        "typo",
        "buying us weapons together cheaper??",
        [],
        [
            (P, "expected to lead to lower costs and faster delivery times"),
            (P, "Coordinated weapons procurement to reduce costs"),
        ],
        ["cost"],
        True,
        "holdout",
    ),
    (
        "typo",
        "what did serbia think of the deal",
        [],
        [(P, "the Serbian government has expressed opposition")],
        ["opposition"],
        True,
        "dev",
    ),
    (
        "typo",
        "when does the guide go to the defense ministrys",
        [],
        [(P, "presentation to the respective defense ministries in September")],
        ["September"],
        True,
        "dev",
    ),
    ("typo", "how many days was the sumit", [], [(Z, "two-day summit")], ["two-day"], True, "holdout"),
    (
        "typo",
        "albania ammo factory - why",
        [],
        [
            (A, "aims to bolster Albania’s military capabilities"),
            (A, "reduced reliance on foreign arms suppliers"),
            (A, "Albania aims to improve its defense posture"),
            (A, "seeks to enhance its self-reliance in defense production"),
            (A, "aims to bolster national defense capabilities"),
        ],
        [],
        True,
        "dev",
    ),
    (
        "typo",
        "kosovo nato milestones 2026",
        [],
        [(K, "2026 | Integration into NATO’s Plans")],
        ["Integration"],
        True,
        "dev",
    ),
    (
        "typo",
        "wich publication is the kayo story from",
        [],
        [(A, "The Defense Post")],
        ["Defense Post"],
        True,
        "holdout",
    ),
    (
        "typo",
        "zelensky hybrid threts examples",
        [],
        [(Z, "such as cyber attacks and disinformation campaigns")],
        ["disinformation"],
        True,
        "dev",
    ),
    # -- near-misses: on topic, sharing words, but the articles do not answer -------------------------------------
    ("near_miss", "Who heads Croatia's Ministry of Defense?", [], [], [], False, "dev"),
    ("near_miss", "How much money did the Albanian government give KAYO?", [], [], [], False, "dev"),
    ("near_miss", "How many troops will take part in the joint military exercises?", [], [], [], False, "holdout"),
    ("near_miss", "In which year did Kosovo become a NATO member?", [], [], [], False, "dev"),
    ("near_miss", "Which rifle models will KAYO manufacture?", [], [], [], False, "dev"),
    (
        "near_miss",
        "How much will the joint weapons purchases from the United States cost?",
        [],
        [],
        [],
        False,
        "holdout",
    ),
    ("near_miss", "Which American company will supply the weapons?", [], [], [], False, "dev"),
    ("near_miss", "What did Serbia's president say at the summit in Kyiv?", [], [], [], False, "dev"),
    ("near_miss", "Where is KAYO's headquarters?", [], [], [], False, "holdout"),
    ("near_miss", "Who is the chief executive of KAYO?", [], [], [], False, "dev"),
    ("near_miss", "How many jobs will the KAYO factory create?", [], [], [], False, "dev"),
    ("near_miss", "What percentage of its GDP does Albania spend on defense?", [], [], [], False, "holdout"),
    ("near_miss", "Who represented Romania at the summit with Zelensky?", [], [], [], False, "dev"),
    ("near_miss", "When will Kosovo join the European Union?", [], [], [], False, "dev"),
    ("near_miss", "What is the size of Kosovo's defense budget?", [], [], [], False, "holdout"),
    ("near_miss", "How many members does NATO have?", [], [], [], False, "dev"),
    ("near_miss", "Which Croatian minister signed the joint declaration?", [], [], [], False, "dev"),
    (
        "near_miss",
        "How many people attended the Crisis Management Workshop in August 2023?",
        [],
        [],
        [],
        False,
        "holdout",
    ),
    ("near_miss", "What type of ammunition will KAYO export to Ukraine?", [], [], [], False, "dev"),
    ("near_miss", "What did Greece's prime minister say about Kosovo?", [], [], [], False, "dev"),
    ("near_miss", "how much does a kayo rifle cost", [], [], [], False, "holdout"),
    ("near_miss", "What is the name of the Serbian defence minister?", [], [], [], False, "dev"),
    # -- off-topic: nothing in the articles is related (a bare refusal, no closest passages) ----------------------
    ("off_topic", "What is the capital of Peru?", [], [], [], False, "dev"),
    ("off_topic", "how do i bake sourdough bread at home", [], [], [], False, "dev"),
    ("off_topic", "Who won the football World Cup in 2018?", [], [], [], False, "holdout"),
    ("off_topic", "What is the boiling point of water at sea level?", [], [], [], False, "holdout"),
    # -- long questions with context and one real ask ------------------------------------------------------------
    (
        "long",
        "I've been reading about all these defence deals in the Balkans and it's getting hard to keep track of "
        "who is doing what, so could you tell me, according to the articles, from which country the three partners "
        "are hoping to buy weapons together?",
        [],
        [(P, "particularly from the United States")],
        ["United States"],
        True,
        "dev",
    ),
    (
        "long",
        "I'm writing a short report for a class about how Albania's recent decision on its defence industry "
        "could affect the neighbouring countries, and I would like to cite the articles properly, so what risks for "
        "the region do they mention?",
        [],
        [
            (A, "Increased military competition among neighboring nations"),
            (A, "The risk of arms proliferation to non-state actors"),
            (A, "potentially escalates military capabilities"),
            (A, "Avoiding potential arms proliferation that could destabilize the region"),
        ],
        [],
        True,
        "dev",
    ),
    (
        "long",
        "There has been a lot of talk about Kosovo wanting to get closer to NATO, and I know there are political "
        "obstacles in the way of that, but specifically, which existing member states have not recognised Kosovo's "
        "status, according to the coverage you have?",
        [],
        [(K, "including Spain, Greece, and Slovakia")],
        ["Spain", "Greece", "Slovakia"],
        True,
        "holdout",
    ),
    (
        "long",
        "Zelensky has been travelling a lot to gather support for Ukraine and I saw a headline about him at a "
        "summit of Southeast European countries; what exactly was the idea he was promoting there, in a few words?",
        [],
        [
            (Z, "he promoted the idea of joint arms production"),
            (Z, "President Zelensky’s proposal for joint arms production"),
            (Z, "He highlighted the benefits of joint arms production"),
        ],
        ["joint arms production"],
        True,
        "dev",
    ),
    (
        "long",
        "Since the Croatian government has to be careful about how this kind of cooperation is perceived both in "
        "Belgrade and in Brussels, I'd like to know how exactly Croatia's defence ministry characterised the "
        "cooperation with Albania and Kosovo when it commented on it.",
        [],
        [(P, "The Croatian Ministry of Defense has stated that the initiative is open to other NATO and EU members")],
        ["alliance"],
        True,
        "dev",
    ),
    (
        "long",
        "I know that Albania authorized KAYO to manufacture weapons and that this is supposed to strengthen "
        "national defence and maybe even bring exports, but I would like to know the actual numbers: how many rounds "
        "of ammunition per year is the plant expected to produce once it is running?",
        [],
        [],
        [],
        False,
        "dev",
    ),
    (
        "long",
        "My uncle served in the Kosovo Security Force and keeps telling me that the country is about to join "
        "NATO any day now, which I doubt, so I wanted to check what the articles say stands in the way of Kosovo's "
        "membership, especially with regard to its neighbour Serbia.",
        [],
        [(K, "the persistent tensions with Serbia, which continues to consider Kosovo as part of its territory")],
        ["Serbia"],
        True,
        "holdout",
    ),
    (
        "long",
        "We are preparing a briefing for a parliamentary committee on the trilateral cooperation between "
        "Albania, Kosovo and Croatia and the committee members keep asking about money, so please tell me what budget, "
        "in euros, the three countries have set aside for the joint exercises.",
        [],
        [],
        [],
        False,
        "holdout",
    ),
    # -- across articles -----------------------------------------------------------------------------------------
    (
        "cross",
        "How did the reactions of Serbia and the Pentagon to the pact differ?",
        [],
        [
            (
                P,
                "While the Pentagon and NATO countries have welcomed the agreement, the Serbian government has "
                "expressed opposition",
            )
        ],
        ["welcomed", "opposition"],
        True,
        "dev",
    ),
    (
        "cross",
        "Both Zelensky and the three Balkan partners talked about hybrid threats: which examples are given?",
        [],
        [
            (Z, "such as cyber attacks and disinformation campaigns"),
            (P, "such as cyberattacks and disinformation campaigns"),
            (P, "like cyberattacks and disinformation"),
        ],
        ["disinformation"],
        True,
        "dev",
    ),
    (
        "cross",
        "Which countries besides Albania, Kosovo and Croatia are mentioned as taking part in a summit?",
        [],
        [(Z, "leaders from countries such as Bulgaria, Greece, and Romania")],
        ["Bulgaria"],
        True,
        "holdout",
    ),
    (
        "cross",
        "Where was the summit that Zelensky attended held?",
        [],
        [(Z, "The summit, which took place in Kyiv"), (Z, "Balkan summit in Albania")],
        ["Kyiv|Albania"],
        True,
        "dev",
    ),
    (
        "cross",
        "What role does NATO play in the cooperation between Albania, Kosovo and Croatia?",
        [],
        [
            (D, "catalyze partnerships with NATO and other international defense entities"),
            (D, "Working together in NATO and EU missions to uphold peace and security globally"),
            (D, "formalizing agreements with NATO and the European Union"),
            (P, "The initiative is open to other interested NATO and EU members"),
            (P, "the initiative is open to other NATO and EU members"),
        ],
        ["NATO"],
        True,
        "holdout",
    ),
    # -- follow-ups ------------------------------------------------------------------------------------------------
    (
        "follow_up",
        "and why?",
        ["What did Albania authorize KAYO to do?"],
        [
            (A, "aims to bolster Albania’s military capabilities"),
            (A, "reduced reliance on foreign arms suppliers"),
            (A, "Albania aims to improve its defense posture"),
            (A, "seeks to enhance its self-reliance in defense production"),
            (A, "aims to bolster national defense capabilities"),
            (A, "poised to enhance the country’s defense capabilities"),
        ],
        [],
        True,
        "dev",
    ),
    (
        "follow_up",
        "what about serbia",
        ["Which NATO members don't recognize Kosovo?"],
        [(K, "the persistent tensions with Serbia, which continues to consider Kosovo as part of its territory")],
        ["Serbia"],
        True,
        "dev",
    ),
    (
        "follow_up",
        "and when?",
        ["Where did the expert groups meet?"],
        [(P, "Expert groups convened in Tirana in July")],
        ["July"],
        True,
        "holdout",
    ),
    (
        "follow_up",
        "And Serbia?",
        ["How did the Pentagon react to the agreement?"],
        [(P, "the Serbian government has expressed opposition")],
        ["opposition"],
        True,
        "dev",
    ),
    (
        "follow_up",
        "who was there?",
        ["Where was Zelensky's summit?"],
        [(Z, "brought together leaders from countries such as Bulgaria, Greece, and Romania")],
        ["Bulgaria"],
        True,
        "holdout",
    ),
]


def main(corpus: Path = Path("corpus"), out: Path = Path(__file__).parent) -> int:
    texts = {p.name: p.read_text(encoding="utf-8") for p in corpus.iterdir() if p.is_file()}
    errors = 0
    rows: dict[str, list[dict[str, object]]] = {"dev": [], "holdout": []}
    for n, (kind, question, history, evidence, contains, answerable, split) in enumerate(Q, 1):
        for source, quote in evidence:
            if quote not in texts[source]:
                print(f"not verbatim in {source}: {quote!r}", file=sys.stderr)
                errors += 1
        if answerable != bool(evidence):
            print(f"answerable={answerable} but {len(evidence)} evidence spans: {question!r}", file=sys.stderr)
            errors += 1
        rows[split].append(
            {
                "id": f"own-{split}-{n:03d}",
                "kind": kind,
                "question": question,
                **({"history": history} if history else {}),
                "evidence": [{"source": s, "quote": q} for s, q in evidence],
                "answer_contains": contains,
                "answerable": answerable,
            }
        )
    if errors:
        return 1
    for split, items in rows.items():
        path = out / f"seed_own_{split}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
        print(f"{path}: {len(items)} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
