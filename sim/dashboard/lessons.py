"""The lessons' text: what the class is told, what to press, what to watch and ask.

Each lesson is a Hydra preset in ``configs/lesson/<key>.yaml`` (the same file
runs without the app: ``python -m sim +lesson=f2_salesperson_leaves``). The
numbers in :attr:`Lesson.watch` were re-measured on the model of 2 December 2026
at the lesson's defaults (seed 0; seeds 1–2 agree in direction; ``tests/test_app.py``
checks the F2 direction).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonAction:
    """A one-click shock for the lesson: ``kind`` hits the supplier ``who`` picks.

    ``who`` is ``"leader"`` (most customers now), ``"lone_seller"`` or
    ``"company_wide"`` (the one of that strategy with most customers).
    """

    label: str
    kind: str
    who: str


@dataclass(frozen=True)
class Lesson:
    """A lesson preset and what to tell the class; ``key_chart`` is drawn large."""

    key: str
    title: str
    fact: str
    todo: str
    watch: str
    ask: str
    key_chart: str
    side_charts: tuple[str, str]
    actions: tuple[LessonAction, ...] = ()


LESSONS: dict[str, Lesson] = {
    lesson.key: lesson
    for lesson in (
        Lesson(
            "f1_team_selling",
            "F1 · Team selling beats the lone seller when needs are broad",
            "Buyers want the whole company's resources: no single salesperson can meet "
            "all of a large customer's needs.",
            "Press Play. Later open Settings, move 'Needs beyond the product' down to 0.1 "
            "and play again.",
            "The company-wide suppliers (blue, 10% dearer) win the customers within about "
            "20 steps (about 145 each vs 5 at step 80); with narrow needs the cheaper "
            "lone sellers (orange) win just as clearly (about 130 each vs 18).",
            "Why do the cheaper lone sellers lose when buyers need service, installation "
            "and logistics too?",
            key_chart="customers",
            side_charts=("trust", "profit"),
        ),
        Lesson(
            "f2_salesperson_leaves",
            "F2 · The salesperson leaves and takes the customers",
            "Loyalty to the person walks out of the door with the salesperson; loyalty "
            "to the firm stays.",
            "Press Play. At step 30 Supplier 1's busiest salesperson joins Supplier 2. "
            "Around step 60 press 'A company-wide salesperson leaves', then Reset, play "
            "to 60 and press 'A lone seller's salesperson leaves'.",
            "After step 30 Supplier 1 (lone seller) loses about 30% of its customers "
            "and Supplier 2 gains about 60%. When a company-wide salesperson leaves, "
            "almost none of their customers follow (the rival gains about 1 of 33): the "
            "loyalty is to the firm. When a lone seller's salesperson leaves, the rival "
            "gains about 24 customers.",
            "Is a star salesperson an asset or a risk for the firm? How would you protect "
            "the accounts?",
            key_chart="customers",
            side_charts=("loyalty", "trust"),
            actions=(
                LessonAction("A company-wide salesperson leaves", "salesperson_leaves",
                             "company_wide"),
                LessonAction("A lone seller's salesperson leaves", "salesperson_leaves",
                             "lone_seller"),
            ),
        ),
        Lesson(
            "f4_promises",
            "F4 · Promises made by sales, kept by operations",
            "Those who promise are not those who deliver: sales sets expectations, the "
            "other departments must keep them.",
            "Press Play to about step 60. Then open Settings, move 'Over-promising by "
            "salespeople' to 0.2 and play again.",
            "The lone sellers keep fewer promises: their customers' trust stays low (about "
            "0.18 at step 60) while the company-wide suppliers' grows (about 0.51). "
            "Over-promising by 20% breaks trust at the company-wide firms too (about 0.13).",
            "Who in a company should be allowed to promise what to a customer?",
            key_chart="trust",
            side_charts=("customers", "profit"),
        ),
        Lesson(
            "f5_silence",
            "F5 · Silence before churn",
            "Relationships decay without effort; the telling sign is the absence of "
            "complaints: the buyer leaves silently.",
            "Press Play and compare the two 'customers lost' charts (same scale).",
            "More customers leave silently than after complaining (about 3 to 2 by step "
            "60); the company-wide suppliers, which call silent accounts, lose far fewer "
            "(about 20 against 150 at the lone sellers).",
            "Is a customer who never complains a happy customer? What would you monitor?",
            key_chart="churn",
            side_charts=("customers", "trust"),
        ),
        Lesson(
            "f7_trust_costs",
            "F7 · Trust cuts transaction costs",
            "Low-trust buyers spend about half of their meeting time on haggling, "
            "contracts and blame; the most trusted suppliers need far less (Dyer & Chu).",
            "Press Play; compare 'Meeting time lost to haggling' with 'Trust'.",
            "Where trust rises (company-wide, blue: 0.18 → 0.58 by step 80) the meeting "
            "time lost falls (46% → 30%); where it stays low (lone sellers, orange: about "
            "0.19) it stays high (about 50%, over 60% early on: broken promises add blame).",
            "Why is a trusted supplier cheaper to buy from even at a higher price?",
            key_chart="haggling",
            side_charts=("trust", "customers"),
        ),
        Lesson(
            "f8_adversarial",
            "F8 · Adversarial buying",
            "Buyers who play suppliers against each other get lower prices, but no "
            "partnership and no joint improvement.",
            "Press Play to about step 100. Then open Settings, move 'Share of adversarial "
            "buyers' to 0 and play again.",
            "Haggling and split orders keep profits down (company-wide about 24 per step "
            "at step 100, lone sellers about 3) and no strategic partner appears; with "
            "partnership buyers the company-wide suppliers earn more (about 32 and 48) "
            "and about 100 partners each appear.",
            "When is adversarial buying the right policy for a purchasing department?",
            key_chart="profit",
            side_charts=("partners", "haggling"),
        ),
        Lesson(
            "f9_partner_failure",
            "F9 · The strategic partner and the one serious failure",
            "A strategic partner gets priority and a large share, but one serious failure "
            "ends the status at once.",
            "Play to about step 60 until strategic partners appear, then press "
            "'Quality failure at the leader'.",
            "Within four steps the leader loses almost all its strategic partners "
            "(black rings in the network, 123 → 2), its customers' trust falls from about "
            "0.50 to 0.32 and most of its customers leave (178 → 25); they do not come back.",
            "Is it fair that years of good service are undone by one failure? What should "
            "the supplier do the day after?",
            key_chart="partners",
            side_charts=("trust", "customers"),
            actions=(LessonAction("Quality failure at the leader", "quality_failure",
                                  "leader"),),
        ),
        Lesson(
            "f1_market_chooses",
            "F1 · The market chooses: firms copy the strategy that pays",
            "No strategy is fixed for ever: every 10 steps each supplier looks at a rival "
            "and copies its strategy if the rival earned more. Which strategy survives "
            "depends on what buyers need.",
            "Press Play and watch the 'Strategy' chart: each line is a supplier, and its "
            "colour is its strategy now. Then open Settings, move 'Needs beyond the "
            "product' to 0.1, Reset and play again.",
            "With broad needs the lone sellers turn hybrid first (by step 40 five of the six "
            "suppliers are hybrid), then company-wide spreads: by step 150 all six are "
            "company-wide. With narrow needs the two suppliers that started company-wide "
            "have only 7 and 12 customers at step 20, and by step 60 all six are lone "
            "sellers.",
            "Why do firms copy the hybrid first, before the company-wide strategy wins? "
            "What does a firm see after ten steps that it would not see after a hundred?",
            key_chart="strategy",
            side_charts=("customers", "profit"),
        ),
    )
}
DEFAULT_LESSON = "f1_team_selling"

#: The words the dashboard uses, one per concept, as the class should read them.
GLOSSARY: dict[str, str] = {
    "Customer": "a buyer who buys most from this supplier (its main supplier).",
    "Trust": "the buyer's confidence that the supplier keeps its promises and will not "
             "exploit it (0 none, 1 full); it grows with kept promises and falls with "
             "broken ones.",
    "Loyalty to the person": "attachment to one salesperson: it leaves when they leave.",
    "Loyalty to the firm": "attachment to the company itself: it stays when people change.",
    "Strategic partner": "a supplier a buyer gives priority and a large share of its "
                         "purchases, under strict standards: one serious failure ends it.",
    "Share of wallet": "the part of a buyer's purchases that goes to one supplier.",
}
