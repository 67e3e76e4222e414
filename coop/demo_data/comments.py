"""About 200 French reader comments for the demo's moderation project (written for the demo).

Each comment belongs to one of ten articles; the mix is what a newspaper's moderation desk sees:
mostly constructive or harmless comments, some off-topic or spam, some insults, and a few
distressing ones (threats, violence) that are flagged so the project carries a content note.
"""

from dataclasses import dataclass
from itertools import cycle, product

ARTICLES = (
    "Réforme des retraites : le texte arrive au Sénat",
    "Lyon : la nouvelle ligne de tramway ouvrira en juin",
    "Prix de l'énergie : les factures augmentent de 10 % au 1er février",
    "Canicule : la préfecture restreint l'usage de l'eau",
    "Fermeture de l'usine de Saint-Nazaire : 300 emplois menacés",
    "Budget municipal : la ville renonce à la piscine olympique",
    "Ligue 1 : Marseille s'impose à Paris dans les arrêts de jeu",
    "Festival de Cannes : la Palme d'or pour un premier film",
    "Éducation : le port de l'uniforme testé dans cent collèges",
    "Santé : les déserts médicaux s'étendent en zone rurale",
)

CONSTRUCTIVE = (
    "Article clair, merci. Il manque cependant le calendrier précis des prochaines étapes.",
    "Je vis dans le quartier concerné et je confirme : personne n'a été consulté.",
    "Quelqu'un sait-il si la mesure s'applique aussi aux indépendants ?",
    "Les chiffres cités datent de 2023, il serait utile de les mettre à jour.",
    "Bonne nouvelle pour les habitants, enfin une décision après dix ans d'attente.",
    "Je ne partage pas l'avis de l'élu interrogé, mais l'article présente bien les deux positions.",
    "Petite erreur dans le deuxième paragraphe : il s'agit du département voisin.",
    "Ma mère est directement touchée, et les explications ici sont plus claires que celles reçues.",
    "Il faudrait interroger aussi les syndicats, leur point de vue manque.",
    "Merci pour l'infographie, elle résume bien la situation.",
    "On en reparlera dans un an, mais l'idée me semble plutôt raisonnable.",
    "Le coût total n'est pas précisé : qui paiera au final ?",
    "Je travaille dans le secteur et la réalité du terrain est plus nuancée.",
    "Excellent reportage, les témoignages sont touchants et bien choisis.",
    "Pourquoi ne pas avoir comparé avec ce qui se fait en Allemagne ?",
    "Comme toujours, ce sont les petites communes qui paient le prix fort.",
    "Je suis sceptique, mais attendons les premiers résultats avant de juger.",
    "Une précision : la consultation publique est ouverte jusqu'au 15 du mois.",
)

# Constructive comments are an opening and a remark, so no two of the batch read the same.
OPENINGS = (
    "",
    "Bonjour.",
    "Lecteur depuis vingt ans :",
    "Merci pour cet article.",
    "Abonnée de longue date :",
    "D'accord avec le commentaire précédent.",
    "Vu de Bordeaux :",
)

OFF_TOPIC = (
    "Rien à voir, mais quelqu'un sait pourquoi le site est si lent ce matin ?",
    "Et sinon, la météo de ce week-end, quelqu'un a des infos ?",
    "Je cherche une nounou sur le 7e arrondissement, contactez-moi.",
    "Premier !",
    "Je me suis désabonné de votre journal l'an dernier et je ne le regrette pas.",
)

SPAM = (
    "Gagnez 500 € par jour depuis chez vous, méthode secrète sur mon profil !!!",
    "Crypto garantie x10 en une semaine, écrivez-moi en privé.",
    "Promo exceptionnelle sur les montres de luxe, livraison gratuite, lien en bio.",
    "Vous voulez perdre 10 kilos en 10 jours ? Cliquez sur mon nom.",
)

INSULTING = (
    "Encore un article écrit par un stagiaire incompétent.",
    "Les gens qui votent pour ça sont des abrutis, point.",
    "Ce journaliste est une honte, il devrait changer de métier.",
    "Bande de guignols, vous ne comprenez rien à rien.",
    "Les commentateurs ici sont tous des idiots finis.",
)

# Distressing: threats and violence, written to train moderators, flagged for the content note.
DISTRESSING = (
    "Si je croise ce maire dans la rue, je ne réponds plus de rien, il va le payer cher.",
    "Ils méritent qu'on aille brûler leurs voitures, un par un, et je sais où ils habitent.",
    "J'ai vu l'accident hier soir, il y avait du sang partout sur la chaussée, c'était horrible.",
    "Qu'on les enferme tous et qu'on jette la clé, ou pire.",
)

# The order comments come in: mostly constructive, with the rest spread through the batch.
MIX = (
    ["constructive"] * 11 + ["off_topic"] * 3 + ["spam"] * 2 + ["insulting"] * 3
    + ["distressing"] * 1
)  # fmt: skip

POOLS = {
    "constructive": CONSTRUCTIVE,
    "off_topic": OFF_TOPIC,
    "spam": SPAM,
    "insulting": INSULTING,
    "distressing": DISTRESSING,
}


@dataclass(frozen=True)
class Comment:
    external_id: str
    article: str
    text: str
    kind: str  # what the demo's author meant it as; members decide for themselves

    @property
    def distressing(self) -> bool:
        return self.kind == "distressing"


def _joined(opening: str, remark: str) -> str:
    if opening.endswith(":"):  # French runs on in lower case after a colon
        remark = remark[0].lower() + remark[1:]
    return f"{opening} {remark}".strip()


def comments() -> list[Comment]:
    """Return the 200 demo comments, the same every time."""
    constructive = (
        _joined(opening, remark) for remark, opening in product(CONSTRUCTIVE, OPENINGS)
    )
    pools = {kind: cycle(texts) for kind, texts in POOLS.items()}
    pools["constructive"] = constructive
    result = []
    for number in range(200):
        kind = MIX[number % len(MIX)]
        text = next(pools[kind])
        article = ARTICLES[number % len(ARTICLES)]
        result.append(Comment(f"comment-{number + 1:03d}", article, text, kind))
    return result
