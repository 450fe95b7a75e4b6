"""Name matching for a drafted mapping (not public API): the synonyms of the canonical
table and column names in several languages, how a client header is folded and compared
with them, and the guess of a direction word. Used by
:func:`loyaltylab.data.mapping.draft_mapping` and by the loader's suggestions.
"""

from __future__ import annotations

import re
import unicodedata

from loyaltylab.data import schema as S


# Names are compared after folding (see _fold_name): accents removed, lower snake case.
# German umlauts are also tried spelt out (ä -> ae), so both "auftraege" and "auftrage"
# match "Aufträge".
_TABLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    S.CUSTOMERS: (
        "customer", "clients", "client", "accounts", "members",
        "kunden", "kunde", "stammdaten", "kundenstamm",                      # de
        "clientele", "fichier_clients",                                      # fr
        "kunder", "kund", "kundregister",                                    # sv
        "kunderegister",                                                     # da, no
        "klanten", "klant", "klantenbestand",                                # nl
        "clientes", "cliente",                                               # es, pt
        "clienti",                                                           # it
        "klienci", "klient", "kontrahenci",                                  # pl
    ),
    S.ORDERS: (
        "order", "sales", "transactions", "purchases", "invoices",
        "bestellungen", "auftraege", "umsaetze", "verkaeufe", "rechnungen",  # de
        "commandes", "commande", "ventes", "factures", "achats",             # fr
        "ordrar", "bestallningar", "forsaljning", "fakturor", "kop",         # sv
        "ordrer", "bestillinger", "salg", "fakturaer", "kob", "kjop",        # da, no
        "bestellingen", "verkopen", "facturen", "aankopen",                  # nl
        "pedidos", "ventas", "facturas", "compras",                          # es
        "ordini", "vendite", "fatture", "acquisti",                          # it
        "encomendas", "vendas", "faturas",                                   # pt
        "zamowienia", "sprzedaz", "faktury", "zakupy",                       # pl
    ),
    S.CONTACTS: (
        "contact", "interactions", "activities", "touchpoints",
        "kontakte", "aktivitaeten",                                          # de
        "contacts_clients", "historique_contacts",                           # fr
        "kontakter", "aktiviteter",                                          # sv, da, no
        "contacten", "activiteiten",                                         # nl
        "contactos", "interacciones", "actividades",                         # es
        "contatti", "interazioni", "attivita",                               # it
        "contatos", "interacoes",                                            # pt
        "kontakty", "interakcje",                                            # pl
    ),
    S.REFERRALS: ("referral", "recommendations", "empfehlungen", "parrainages",
                  "rekommendationer", "anbefalinger", "aanbevelingen", "doorverwijzingen",
                  "verwijzingen", "referidos",
                  "recomendaciones", "raccomandazioni", "indicacoes", "polecenia"),
    S.SURVEYS: ("survey", "responses", "answers", "nps", "umfragen", "befragung",
                "enquetes", "sondages", "enkater", "undersokningar", "undersogelser",
                "undersokelser", "encuestas", "sondaggi", "questionari", "inqueritos",
                "pesquisas", "ankiety"),
    S.COMPLAINTS: ("complaint", "tickets", "beschwerden", "reklamationen", "reclamations",
                   "plaintes", "reklamationer", "klagomal", "klager", "reklamasjoner",
                   "klachten", "reclamaciones", "quejas", "reclami", "reclamacoes",
                   "reklamacje", "skargi"),
    S.SUBSCRIPTIONS: ("subscription", "contracts", "vertraege", "abos", "abonnements",
                      "contrats", "abonnemang", "prenumerationer", "avtal",
                      "abonnementer", "abonnementen", "contracten", "suscripciones",
                      "contratos", "abbonamenti", "contratti", "assinaturas",
                      "subskrypcje", "abonamenty", "umowy"),
    S.ASSIGNMENTS: ("assignment", "account_managers", "betreuung", "betreuer",
                    "affectations", "tilldelningar", "toewijzingen", "asignaciones",
                    "assegnazioni", "atribuicoes", "przypisania"),
    S.WEB_SESSIONS: ("sessions", "visits", "web", "besuche", "web_session", "visites",
                     "besok", "besog", "bezoeken", "sessies", "visitas", "sesiones",
                     "visite", "sessioni", "sessoes", "wizyty", "sesje"),
}
_COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    S.CUSTOMER_ID: (
        "cust_id", "client_id", "customer_no", "customer_number", "account_id",
        "kundennr", "kunden_nr", "kunden_id", "kundennummer", "kdnr",            # de
        "id_client", "numero_client", "no_client", "num_client", "code_client",  # fr
        "ref_client", "n_client",
        "kundnummer", "kundnr", "kund_id",                                       # sv
        "kundenummer", "kundenr", "kunde_id",                                    # da, no
        "klantnummer", "klantnr", "klant_id",                                    # nl
        "id_cliente", "numero_cliente", "codigo_cliente", "n_cliente",           # es, pt
        "num_cliente", "codice_cliente", "cod_cliente",                          # it
        "numer_klienta", "id_klienta", "nr_klienta", "kod_klienta",              # pl
    ),
    S.ACQUIRED_AT: (
        "created_at", "created", "signup_date", "registered", "first_seen", "since",
        "customer_since",
        "anlagedatum", "kunde_seit", "erstellt", "registriert_am",               # de
        "date_creation", "date_de_creation", "date_inscription",                 # fr
        "date_d_inscription", "client_depuis",
        "kund_sedan", "skapad", "registrerad", "registreringsdatum",             # sv
        "kunde_siden", "oprettet", "oprettelsesdato", "opprettet", "registrert", # da, no
        "klant_sinds", "aangemaakt", "registratiedatum", "aanmaakdatum",         # nl
        "fecha_alta", "fecha_de_alta", "fecha_registro", "cliente_desde",        # es, pt
        "data_registrazione", "cliente_dal", "data_creazione", "data_iscrizione",  # it
        "data_cadastro", "data_registo", "data_registro", "data_criacao",        # pt
        "data_rejestracji", "klient_od", "data_utworzenia",                      # pl
    ),
    S.KIND: ("type", "customer_type", "kundenart", "art", "typ", "type_client",
             "type_de_client", "kundtyp", "kundetype", "klanttype", "soort", "tipo",
             "tipo_cliente", "tipo_de_cliente", "typ_klienta", "rodzaj"),
    S.SEGMENT: ("segment", "tier", "class", "kundensegment", "kundengruppe", "kundsegment",
                "kundgrupp", "kundesegment", "kundegruppe", "klantsegment", "klantgroep",
                "groupe_de_clients", "segmento", "grupo_de_clientes", "gruppo_clienti",
                "grupa_klientow"),
    S.ACQUISITION_CHANNEL: ("channel", "source", "acquisition", "herkunft", "quelle",
                            "origine", "canal_d_acquisition", "kalla", "ursprung",
                            "kilde", "herkomst", "bron", "origen", "fuente", "fonte",
                            "origem", "zrodlo", "kanal_pozyskania"),
    S.REGION: ("region", "sales_region", "country", "area", "territory", "gebiet", "bezirk",
               "land", "pays", "secteur", "distrikt", "omrade", "regio", "gebied",
               "provincie", "pais", "zona", "provincia", "regione", "paese", "regiao",
               "kraj", "wojewodztwo"),
    S.ACCOUNT_MANAGER: ("manager", "owner", "sales_rep", "betreuer", "berater",
                        "commercial", "responsable", "saljare", "saelger", "selger",
                        "accountmanager", "vendedor", "gestor", "referente",
                        "opiekun"),
    S.ACQUISITION_COST: ("cac", "acquisition_costs", "akquisekosten",
                         "cout_d_acquisition", "anskaffningskostnad", "forvarvskostnad",
                         "anskaffelsesomkostning", "acquisitiekosten", "coste_de_captacion",
                         "coste_de_adquisicion", "costo_di_acquisizione",
                         "custo_de_aquisicao", "koszt_pozyskania"),
    S.REWARD_SCHEME: ("loyalty_scheme", "loyalty_programme", "loyalty_program", "reward",
                      "bonusprogramm", "bonusprogram", "programm", "spaarprogramma",
                      "programme_fidelite", "lojalitetsprogram", "loyaliteitsprogramma",
                      "programa_de_fidelizacion", "programma_fedelta",
                      "programa_de_fidelidade", "program_lojalnosciowy"),
    S.ORDER_ID: (
        "order_no", "order_number", "invoice_id", "invoice_no", "transaction_id",
        "bestellnr", "bestellnummer", "auftragsnr", "auftragsnummer", "belegnr",  # de
        "rechnungsnummer",
        "numero_commande", "no_commande", "num_commande", "id_commande",         # fr
        "n_commande", "reference_commande", "numero_facture",
        "ordernummer", "ordernr", "order_nr", "fakturanummer",                   # sv
        "ordrenummer", "ordrenr",                                                # da, no
        "bestelnummer", "factuurnummer",                                         # nl
        "numero_pedido", "id_pedido", "n_pedido", "numero_factura",              # es
        "numero_ordine", "id_ordine", "n_ordine", "numero_fattura",              # it
        "numero_encomenda", "numero_fatura", "n_encomenda",                      # pt
        "numer_zamowienia", "nr_zamowienia", "id_zamowienia", "numer_faktury",   # pl
    ),
    S.ORDERED_AT: (
        "order_date", "date", "purchase_date", "transaction_date", "invoice_date",
        "bestelldatum", "datum", "auftragsdatum", "belegdatum", "rechnungsdatum",  # de
        "date_commande", "date_de_commande", "date_facture", "date_achat",        # fr
        "date_vente",
        "orderdatum", "bestallningsdatum", "fakturadatum", "kopdatum",           # sv, nl
        "ordredato", "dato", "bestillingsdato", "fakturadato", "kobsdato",       # da, no
        "besteldatum", "factuurdatum", "aankoopdatum",                           # nl
        "fecha", "fecha_pedido", "fecha_de_pedido", "fecha_compra",              # es
        "fecha_factura", "fecha_venta",
        "data", "data_ordine", "data_dell_ordine", "data_acquisto",              # it
        "data_fattura",
        "data_pedido", "data_do_pedido", "data_encomenda", "data_compra",        # pt
        "data_zamowienia", "data_zakupu", "data_sprzedazy",                      # pl
    ),
    S.AMOUNT: (
        "value", "total", "revenue", "sales", "net_amount", "amount_eur",
        "betrag", "umsatz", "wert", "summe", "betrag_eur", "gesamtbetrag",       # de
        "montant", "montant_total", "montant_ttc", "montant_ht",                 # fr
        "chiffre_d_affaires",
        "belopp", "summa", "totalt", "varde",                                    # sv
        "belob", "vaerdi", "belop", "verdi",                                     # da, no
        "bedrag", "totaal", "omzet", "waarde",                                   # nl
        "importe", "monto", "valor", "importe_total",                            # es
        "importo", "totale", "valore",                                           # it
        "montante", "valor_total",                                               # pt
        "kwota", "wartosc", "suma", "wartosc_brutto", "kwota_brutto",            # pl
    ),
    S.PRODUCT_LINE: ("product", "category", "product_group", "sparte", "warengruppe",
                     "produktlinie", "categorie", "gamme", "famille", "produktkategori",
                     "produktlinje", "productlijn", "linea_di_prodotto",
                     "varugrupp", "kategori", "varegruppe", "produktgruppe",
                     "productgroep", "categoria", "linea_de_producto", "familia",
                     "linea_prodotto", "linha_de_produto", "kategoria",
                     "grupa_produktow"),
    S.DISCOUNT: ("rebate", "rabatt", "nachlass", "remise", "reduction", "rabais", "rabat",
                 "korting", "descuento", "sconto", "desconto", "znizka"),
    S.CONTACTED_AT: ("contact_date", "date", "timestamp", "time", "datetime",
                     "kontaktdatum", "datum", "zeitpunkt", "zeit", "date_contact",
                     "date_du_contact", "tidpunkt", "kontaktdato", "dato", "tidspunkt",
                     "contactdatum", "tijdstip", "fecha_contacto", "fecha_de_contacto",
                     "fecha", "data_contatto",
                     "data", "data_contato", "data_contacto", "data_kontaktu"),
    S.CHANNEL: ("medium", "kanal", "contact_type", "kontaktart", "canal", "kanaal",
                "canale"),
    S.DIRECTION: ("richtung", "in_out", "inbound_outbound", "sens", "riktning",
                  "retning", "richting", "direccion", "sentido", "direzione", "direcao",
                  "kierunek"),
    S.CAMPAIGN: ("campaign_name", "kampagne", "aktion", "campagne", "kampanj",
                 "kampagne", "campana", "campagna", "campanha", "kampania"),
    S.CONTACT_COST: ("cost", "kosten", "cout", "kostnad", "omkostning", "kostnad",
                     "coste", "costo", "custo", "koszt"),
    S.REFERRER_ID: ("referrer", "recommender", "referred_by", "werber", "empfehler",
                    "empfohlen_von", "parrain", "rekommenderad_av", "anbefalet_af",
                    "anbefalt_av", "doorverwezen_door", "aanbrenger", "recomendado_por",
                    "raccomandato_da", "indicado_por", "polecajacy"),
    S.REFERRED_ID: ("referred", "new_customer", "referred_customer", "geworbener",
                    "neukunde", "filleul", "nouveau_client", "ny_kund", "ny_kunde",
                    "nieuwe_klant", "cliente_nuevo", "nuevo_cliente", "nuovo_cliente",
                    "novo_cliente", "cliente_novo", "nowy_klient", "polecony"),
    S.REFERRED_AT: ("referral_date", "date", "datum", "empfehlungsdatum",
                    "date_de_parrainage", "date_parrainage", "rekommendationsdatum",
                    "anbefalingsdato", "verwijsdatum", "fecha_de_recomendacion",
                    "data_raccomandazione", "data_indicacao", "data_polecenia"),
    S.SURVEY: ("survey_name", "wave", "welle", "umfrage", "enquete", "sondage", "enkat",
               "undersokning", "undersogelse", "encuesta", "sondaggio", "questionario",
               "inquerito", "pesquisa", "ankieta"),
    S.ITEM: ("question", "frage", "question_id", "fraga", "sporsmal", "vraag", "pregunta",
             "domanda", "pergunta", "pytanie"),
    S.ANSWERED_AT: ("response_date", "answer_date", "answered_on", "date", "datum",
                    "antwortdatum", "date_de_reponse", "date_reponse", "svarsdatum",
                    "svardato", "antwoorddatum", "fecha_de_respuesta", "data_risposta",
                    "data_resposta", "data_odpowiedzi"),
    S.SCORE: ("answer", "rating", "value", "antwort", "bewertung", "wert", "punkte",
              "note", "reponse", "svar", "poang", "karakter", "antwoord", "cijfer",
              "respuesta", "puntuacion", "risposta", "punteggio", "voto", "resposta",
              "pontuacao", "odpowiedz", "ocena"),
    S.COMMENT: ("text", "remark", "verbatim", "kommentar", "bemerkung", "commentaire",
                "opmerking", "comentario", "commento", "komentarz"),
    S.RESPONSE_SECONDS: ("duration", "duration_seconds", "dauer"),
    S.OPENED_AT: ("created_at", "opened", "opened_on", "date", "eingang", "eroeffnet",
                  "eroeffnet_am", "ouverte_le", "ouvert_le", "date_d_ouverture", "oppnad",
                  "oppnat", "oprettet", "geopend", "abierta", "fecha_de_apertura",
                  "aperta", "data_apertura", "aberta", "data_abertura", "otwarta",
                  "data_otwarcia"),
    S.RESOLVED_AT: ("closed_at", "resolved", "closed", "closed_on", "erledigt",
                    "erledigt_am", "geschlossen", "resolue_le", "fermee_le",
                    "date_de_cloture", "lost", "stangd", "lukket", "loest", "opgelost",
                    "gesloten", "resuelta", "cerrada", "fecha_de_cierre", "risolta",
                    "chiusa", "resolvida", "fechada", "rozwiazana", "zamknieta"),
    S.CATEGORY: ("type", "reason", "kategorie", "grund", "categorie", "kategori",
                 "categoria", "motivo", "kategoria"),
    S.OUTCOME: ("result", "resolution", "ergebnis", "resultat", "issue", "utfall",
                "resultaat", "uitkomst", "resultado", "risultato", "esito", "wynik"),
    S.STARTED_AT: ("start", "start_date", "begin", "beginn", "vertragsbeginn"),
    S.ENDED_AT: ("end", "end_date", "cancelled_at", "ende", "vertragsende", "kuendigung"),
    S.PLAN: ("tariff", "product", "tarif"),
    S.ASSIGNED_FROM: ("from", "valid_from", "start", "gueltig_ab", "von"),
    S.ASSIGNED_TO: ("to", "valid_to", "end", "gueltig_bis", "bis"),
    S.END_REASON: ("reason", "grund", "end_reason"),
    S.VISITOR_ID: ("cookie_id", "visitor", "session_visitor", "besucher_id", "client_id"),
}
# A bare "id" or "number" is the key of the table it is in.
_KEY_SYNONYMS = ("id", "nr", "no", "number", "nummer", "numero", "numer")
_ID_TOKENS = frozenset(_KEY_SYNONYMS) | {"num", "n", "code", "kod", "codigo", "codice",
                                         "ref", "key"}
_SPELL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "œ": "oe", "đ": "d",
                        "þ": "th", "ð": "d", "ı": "i"})
_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _fold_name(name: str, *, umlauts: bool = False) -> str:
    """A header folded for comparison: accents removed (NFKD), lower snake case.

    Examples
    --------
    >>> _fold_name("Date de création"), _fold_name("Numer klienta"), _fold_name("Straße")
    ('date_de_creation', 'numer_klienta', 'strasse')
    >>> _fold_name("Aufträge", umlauts=True)
    'auftraege'
    """
    from loyaltylab.data.validation import normalize_name
    s = str(name).replace("\ufeff", "").strip()
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    if umlauts:
        s = s.translate(_UMLAUT)
    s = unicodedata.normalize("NFKD", s.translate(_SPELL))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return normalize_name(s)


def _id_stem(n: str) -> str | None:
    """The part of an identifier name before its id word (``order`` of ``order_id``),
    None when the name has no id word; ``""`` for a bare ``id``."""
    tokens = n.split("_")
    if not any(t in _ID_TOKENS for t in tokens):
        return None
    return "_".join(t for t in tokens if t not in _ID_TOKENS)


def _contains(name: str, option: str) -> bool:
    """Whether the words of ``option`` occur, in order and whole, in a longer ``name``
    (bare identifier words such as ``id`` never count: "Device ID" is not an id of
    this table)."""
    words, opt = name.split("_"), option.split("_")
    if len(words) <= len(opt) or len(option) < 3 or _id_stem(option) == "":
        return False
    return any(words[i:i + len(opt)] == opt for i in range(len(words) - len(opt) + 1))


def _similarity(client: str, options: tuple[str, ...]) -> float:
    """How well a client name matches a canonical name (``options[0]``, 1.0 when equal)
    or one of its synonyms (at most 0.95). Names that both name an identifier must agree
    on what it identifies: ``Device ID`` is not ``order_id``."""
    import difflib

    names = {_fold_name(client), _fold_name(client, umlauts=True)}
    best = 0.0
    for n in names:
        for o in options:
            if n == o:
                r = 1.0
            else:
                r = difflib.SequenceMatcher(None, n, o).ratio()
                if _contains(n, o):
                    r = max(r, 0.85)  # "Sales region" holds the word "region"
                stems = (_id_stem(n), _id_stem(o))
                if r < 1.0 and None not in stems and stems[0] and stems[1] \
                        and difflib.SequenceMatcher(None, *stems).ratio() < 0.75 \
                        and not (stems[0].startswith(stems[1])
                                 or stems[1].startswith(stems[0])):
                    r = 0.0  # different things identified
            if o != options[0]:
                r = min(r, 0.95)  # a synonym match is good, never "exact"
            best = max(best, r)
    return best


_INBOUND = ("ein", "in", "rein", "entrant", "entrante", "inkommand", "indgaaende",
            "indgaende", "innkommende", "inkomend", "binnenkomend", "arrivo", "entrata",
            "przychodz", "recu", "recibid", "recebid", "ricevut")
_OUTBOUND = ("aus", "out", "raus", "sortant", "salient", "utgaende", "udgaaende",
             "udgaende", "uitgaand", "uscita", "uscent", "wychodz", "emis", "enviad")


def _direction_guess(value: str) -> str | None:
    """inbound/outbound for a client's direction word in one of the supported
    languages, None when unsure."""
    low = _fold_name(value)
    low = low.removeprefix("in_").replace("_", "")  # "in uscita", "in arrivo"
    for word in _OUTBOUND:  # "utgaende" before "in": no inbound word starts with "ut"
        if low.startswith(word):
            return "outbound"
    for word in _INBOUND:
        if low.startswith(word):
            return "inbound"
    return None
