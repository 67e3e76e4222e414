"""Keyword pairs for the demo's search-relevance batch: a query and a product title to judge.

Written for the demo: the pairs a French grocery site's search team would send for judgement,
from exact matches ("moutarde dijon" / "Moutarde de Dijon forte 370 g") to unrelated ones.
"""

from dataclasses import dataclass

PAIRS = (
    ("moutarde dijon", "Moutarde de Dijon forte 370 g"),
    ("moutarde dijon", "Moutarde à l'ancienne en grains 210 g"),
    ("moutarde dijon", "Mayonnaise de Dijon 235 g"),
    ("moutarde dijon", "Vinaigre de vin rouge 50 cl"),
    ("lait demi ecreme", "Lait demi-écrémé UHT 1 L"),
    ("lait demi ecreme", "Lait entier bio 1 L"),
    ("lait demi ecreme", "Boisson à l'avoine 1 L"),
    ("lait demi ecreme", "Crème fraîche épaisse 20 cl"),
    ("pates completes", "Spaghetti complets bio 500 g"),
    ("pates completes", "Penne rigate 500 g"),
    ("pates completes", "Farine de blé complète T110 1 kg"),
    ("pates completes", "Sauce tomate basilic 400 g"),
    ("cafe grain", "Café en grains pur arabica 1 kg"),
    ("cafe grain", "Café moulu intensité 8 250 g"),
    ("cafe grain", "Capsules compatibles espresso x10"),
    ("cafe grain", "Moulin à café manuel"),
    ("jambon blanc", "Jambon de Paris supérieur 4 tranches"),
    ("jambon blanc", "Jambon cru de Bayonne 6 tranches"),
    ("jambon blanc", "Blanc de poulet rôti 4 tranches"),
    ("jambon blanc", "Chocolat blanc pâtissier 180 g"),
    ("couches taille 4", "Couches bébé taille 4 (9-14 kg) x46"),
    ("couches taille 4", "Couches bébé taille 5 (11-16 kg) x40"),
    ("couches taille 4", "Culottes d'apprentissage taille 4 x30"),
    ("couches taille 4", "Lingettes bébé à l'eau x64"),
    ("huile olive", "Huile d'olive vierge extra 75 cl"),
    ("huile olive", "Huile de tournesol 1 L"),
    ("huile olive", "Olives vertes dénoyautées 160 g"),
    ("huile olive", "Tapenade noire 90 g"),
    ("lessive sensible", "Lessive liquide peaux sensibles 2 L"),
    ("lessive sensible", "Lessive capsules fraîcheur x30"),
    ("lessive sensible", "Adoucissant hypoallergénique 1,5 L"),
    ("lessive sensible", "Liquide vaisselle citron 500 ml"),
    ("chips sans sel", "Chips nature sans sel ajouté 135 g"),
    ("chips sans sel", "Chips à l'ancienne sel de Guérande 150 g"),
    ("chips sans sel", "Crackers sans sel 200 g"),
    ("chips sans sel", "Sel fin iodé 1 kg"),
    ("fromage rape", "Emmental râpé 200 g"),
    ("fromage rape", "Parmesan râpé AOP 100 g"),
    ("fromage rape", "Comté AOP 12 mois 250 g"),
    ("fromage rape", "Râpe à fromage inox"),
)

SCALE = ("Exact", "Proche", "Lié", "Sans rapport")


@dataclass(frozen=True)
class Pair:
    external_id: str
    query: str
    product: str


def pairs() -> list[Pair]:
    """Return the demo's keyword pairs, the same every time."""
    return [Pair(f"pair-{n:03d}", q, p) for n, (q, p) in enumerate(PAIRS, start=1)]
