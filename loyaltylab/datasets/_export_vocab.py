"""Vocabulary of the synthetic client exports (:mod:`loyaltylab.datasets._exports`):
languages, formats, delimiters, encodings, number and date styles, localised
headers and the planted values."""

from __future__ import annotations

from typing import Any

from loyaltylab.data import schema as S

__all__ = ["LANGUAGES", "FORMATS", "DELIMITERS", "ENCODINGS", "LINE_ENDINGS", "DECIMALS",
           "DATE_STYLES", "OPTIONAL_TABLES", "REASON_TOTALS", "FORMULAS", "ZONES"]


# ------------------------------------------------------------------ vocabulary
LANGUAGES = ("en", "de", "fr", "sv", "nl", "es")
#: "xlsx": one workbook, a sheet per table; "xlsx_files": a folder of workbooks, one per
#: table (each with one sheet named as Excel names it: Sheet1, Tabelle1, Feuil1, ...).
FORMATS = ("csv", "xlsx", "xlsx_files", "parquet", "sqlite", "duckdb")
_SHEET1 = {"en": "Sheet1", "de": "Tabelle1", "fr": "Feuil1", "sv": "Blad1", "nl": "Blad1",
           "es": "Hoja1"}
_EXCEL = ("xlsx", "xlsx_files")
_SPREAD = ("csv",) + _EXCEL
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16")
LINE_ENDINGS = ("\n", "\r\n", "\r")
#: Number styles: plain 1234.56; en 1,234.56; de 1.234,56; fr 1 234,56 (space or no-break
#: space); comma 1234,56; ch 1'234.56; plain_trim and comma_trim as Excel's "General"
#: format writes them (1234.5, 1500; 1234,5, 1500: no trailing zeros).
DECIMALS = ("plain", "en", "de", "fr", "comma", "ch", "plain_trim", "comma_trim")
#: Date styles: strftime formats as written in the export. ``local``: wall-clock time of
#: the client's zone (order times of day; the mapping names the zone); ``offset``: with
#: the zone's UTC offset (``2024-03-05 14:30:00 +0100``, as shop systems write).
DATE_STYLES = {"iso": "%Y-%m-%d", "iso_time": "%Y-%m-%d %H:%M:%S",
               "local": "%d.%m.%Y %H:%M", "offset": "%Y-%m-%d %H:%M:%S %z",
               "dmy": "%d.%m.%Y",
               "dmy_slash": "%d/%m/%Y", "dmy_dash": "%d-%m-%Y", "mdy": "%m/%d/%Y"}
OPTIONAL_TABLES = (S.CONTACTS, S.REFERRALS, S.SURVEYS, S.COMPLAINTS)
#: Key of :attr:`ClientExport.rejected` for totals rows (the loader's wording may differ:
#: match it on the word "total").
REASON_TOTALS = "totals row"

_COMMA_DECIMALS = ("de", "fr", "comma", "comma_trim")
_OPTIONAL_COLUMNS = {
    S.CUSTOMERS: (S.SEGMENT, S.REGION, S.KIND, S.ACQUISITION_CHANNEL, S.ACQUISITION_COST,
                  S.REWARD_SCHEME),
    S.ORDERS: (S.PRODUCT_LINE, S.DISCOUNT),
    S.CONTACTS: (S.DIRECTION, S.CAMPAIGN, S.CONTACT_COST),
    S.REFERRALS: (),
    S.SURVEYS: (),
    S.COMPLAINTS: (S.RESOLVED_AT, S.CATEGORY, S.OUTCOME),
}
_REQUIRED_COLUMNS = {t: tuple(S.TABLES[t].required_names) for t in _OPTIONAL_COLUMNS}
_MONEY = {S.AMOUNT, S.DISCOUNT, S.ACQUISITION_COST, S.CONTACT_COST}
_PERSONAL_KEYS = ("full_name", "first_name", "last_name", "email", "phone", "street",
                  "iban")

# Headers and table names as each language's systems write them. The canonical column of
# `customer_id` is the same header in every table (as in real exports).
_L: dict[str, dict[str, Any]] = {
    "en": dict(
        tables={S.CUSTOMERS: "Customers", S.ORDERS: "Orders", S.CONTACTS: "Contacts",
                S.REFERRALS: "Referrals", S.SURVEYS: "Survey answers",
                S.COMPLAINTS: "Complaints"},
        cols={S.CUSTOMER_ID: "Customer No", S.ACQUIRED_AT: "Customer since",
              S.SEGMENT: "Segment", S.REGION: "Sales region", S.KIND: "Customer type",
              S.ACQUISITION_CHANNEL: "Source", S.ACQUISITION_COST: "Acquisition cost",
              S.REWARD_SCHEME: "Loyalty programme", S.ORDER_ID: "Order No",
              S.ORDERED_AT: "Order date", S.AMOUNT: "Order total",
              S.PRODUCT_LINE: "Product line", S.DISCOUNT: "Discount",
              S.CONTACTED_AT: "Contact date", S.CHANNEL: "Channel",
              S.DIRECTION: "Direction", S.CAMPAIGN: "Campaign", S.CONTACT_COST: "Cost",
              S.REFERRER_ID: "Referred by", S.REFERRED_ID: "New customer",
              S.REFERRED_AT: "Referral date", S.SURVEY: "Survey", S.ITEM: "Question",
              S.ANSWERED_AT: "Answered on", S.SCORE: "Answer", S.OPENED_AT: "Opened",
              S.RESOLVED_AT: "Closed", S.CATEGORY: "Category", S.OUTCOME: "Outcome"},
        personal={"full_name": "Name", "first_name": "First name",
                  "last_name": "Last name", "email": "E-mail", "phone": "Phone",
                  "street": "Street", "iban": "IBAN"},
        directions=("Inbound", "Outbound"), totals="Total", title="Sales report",
        exported="Exported on", workbook="CRM export",
        first=("Oliver", "Amelia", "Zoë", "Isabella", "George", "Renée"),
        last=("Whitfield", "Ashworth", "Pemberton", "Hollings", "Blackwood", "Kingsley"),
        street="{n} Larkspur Lane", phone="+44 7700 9{s}", iban="GB", tld="co.uk"),
    "de": dict(
        tables={S.CUSTOMERS: "Kunden", S.ORDERS: "Bestellungen", S.CONTACTS: "Kontakte",
                S.REFERRALS: "Empfehlungen", S.SURVEYS: "Umfrage",
                S.COMPLAINTS: "Beschwerden"},
        cols={S.CUSTOMER_ID: "KundenNr", S.ACQUIRED_AT: "Kunde seit",
              S.SEGMENT: "Kundengruppe", S.REGION: "Gebiet", S.KIND: "Kundenart",
              S.ACQUISITION_CHANNEL: "Herkunft", S.ACQUISITION_COST: "Akquisekosten",
              S.REWARD_SCHEME: "Bonusprogramm", S.ORDER_ID: "BestellNr",
              S.ORDERED_AT: "Bestelldatum", S.AMOUNT: "Betrag",
              S.PRODUCT_LINE: "Produktlinie", S.DISCOUNT: "Rabatt",
              S.CONTACTED_AT: "Kontaktdatum", S.CHANNEL: "Kanal",
              S.DIRECTION: "Richtung", S.CAMPAIGN: "Kampagne", S.CONTACT_COST: "Kosten",
              S.REFERRER_ID: "Empfohlen von", S.REFERRED_ID: "Neukunde",
              S.REFERRED_AT: "Empfehlungsdatum", S.SURVEY: "Umfrage", S.ITEM: "Frage",
              S.ANSWERED_AT: "Antwortdatum", S.SCORE: "Wert",
              S.OPENED_AT: "Eröffnet am", S.RESOLVED_AT: "Erledigt am",
              S.CATEGORY: "Kategorie", S.OUTCOME: "Ergebnis"},
        personal={"full_name": "Name", "first_name": "Vorname",
                  "last_name": "Nachname", "email": "E-Mail", "phone": "Telefon",
                  "street": "Straße", "iban": "IBAN"},
        directions=("Eingehend", "Ausgehend"), totals="Summe", title="Umsatzbericht",
        exported="Exportiert am", workbook="CRM Export",
        first=("Annegret", "Henrike", "Wolfgang", "Friedrich", "Ottilie", "Jürgen"),
        last=("Müllerschön", "Brandtner", "Hüttenberg", "Weißgerber", "Kleinschmidt",
              "Oberländer"),
        street="Lindenstraße {n}", phone="+49 171 55{s}", iban="DE", tld="de"),
    "fr": dict(
        tables={S.CUSTOMERS: "Clients", S.ORDERS: "Commandes", S.CONTACTS: "Contacts",
                S.REFERRALS: "Parrainages", S.SURVEYS: "Enquête",
                S.COMPLAINTS: "Réclamations"},
        cols={S.CUSTOMER_ID: "Numéro client", S.ACQUIRED_AT: "Client depuis",
              S.SEGMENT: "Segment", S.REGION: "Région", S.KIND: "Type de client",
              S.ACQUISITION_CHANNEL: "Origine", S.ACQUISITION_COST: "Coût d'acquisition",
              S.REWARD_SCHEME: "Programme de fidélité", S.ORDER_ID: "Numéro de commande",
              S.ORDERED_AT: "Date de commande", S.AMOUNT: "Montant",
              S.PRODUCT_LINE: "Gamme", S.DISCOUNT: "Remise",
              S.CONTACTED_AT: "Date du contact", S.CHANNEL: "Canal", S.DIRECTION: "Sens",
              S.CAMPAIGN: "Campagne", S.CONTACT_COST: "Coût", S.REFERRER_ID: "Parrain",
              S.REFERRED_ID: "Filleul", S.REFERRED_AT: "Date de parrainage",
              S.SURVEY: "Enquête", S.ITEM: "Question", S.ANSWERED_AT: "Date de réponse",
              S.SCORE: "Note", S.OPENED_AT: "Ouverte le", S.RESOLVED_AT: "Résolue le",
              S.CATEGORY: "Catégorie", S.OUTCOME: "Issue"},
        personal={"full_name": "Nom complet", "first_name": "Prénom",
                  "last_name": "Nom", "email": "Courriel", "phone": "Téléphone",
                  "street": "Adresse", "iban": "IBAN"},
        directions=("Entrant", "Sortant"), totals="Total", title="Rapport des ventes",
        exported="Exporté le", workbook="Export CRM",
        first=("Geneviève", "Thibault", "Séverine", "Anatole", "Bérénice", "Lucienne"),
        last=("Duvernois", "Lefébure", "Beaumarchais", "Chassagne", "Delacroix",
              "Montcalm"),
        street="{n} rue des Lilas", phone="+33 6 {s[0]}{s[1]} {s[2]}{s[3]} {s[4]}0 78",
        iban="FR", tld="fr"),
    "sv": dict(
        tables={S.CUSTOMERS: "Kunder", S.ORDERS: "Ordrar", S.CONTACTS: "Kontakter",
                S.REFERRALS: "Rekommendationer", S.SURVEYS: "Enkät",
                S.COMPLAINTS: "Klagomål"},
        cols={S.CUSTOMER_ID: "Kundnummer", S.ACQUIRED_AT: "Kund sedan",
              S.SEGMENT: "Kundsegment", S.REGION: "Distrikt", S.KIND: "Kundtyp",
              S.ACQUISITION_CHANNEL: "Källa", S.ACQUISITION_COST: "Förvärvskostnad",
              S.REWARD_SCHEME: "Bonusprogram", S.ORDER_ID: "Ordernummer",
              S.ORDERED_AT: "Orderdatum", S.AMOUNT: "Belopp",
              S.PRODUCT_LINE: "Produktlinje", S.DISCOUNT: "Rabatt",
              S.CONTACTED_AT: "Kontaktdatum", S.CHANNEL: "Kanal",
              S.DIRECTION: "Riktning", S.CAMPAIGN: "Kampanj", S.CONTACT_COST: "Kostnad",
              S.REFERRER_ID: "Rekommenderad av", S.REFERRED_ID: "Ny kund",
              S.REFERRED_AT: "Rekommendationsdatum", S.SURVEY: "Enkät", S.ITEM: "Fråga",
              S.ANSWERED_AT: "Svarsdatum", S.SCORE: "Poäng", S.OPENED_AT: "Öppnad",
              S.RESOLVED_AT: "Löst", S.CATEGORY: "Kategori", S.OUTCOME: "Utfall"},
        personal={"full_name": "Namn", "first_name": "Förnamn",
                  "last_name": "Efternamn", "email": "E-post", "phone": "Telefon",
                  "street": "Gatuadress", "iban": "IBAN"},
        directions=("Inkommande", "Utgående"), totals="Totalt",
        title="Försäljningsrapport",
        exported="Exporterad", workbook="CRM-export",
        first=("Ingegerd", "Torbjörn", "Solveig", "Gunnar", "Margareta", "Henrik"),
        last=("Lindqvist", "Bergström", "Åkerlund", "Sjöberg", "Wallin", "Nordgren"),
        street="Storgatan {n}", phone="070-{s[0]}{s[1]}{s[2]} {s[3]}{s[4]} 67", iban="SE",
        tld="se"),
    "nl": dict(
        tables={S.CUSTOMERS: "Klanten", S.ORDERS: "Bestellingen", S.CONTACTS: "Contacten",
                S.REFERRALS: "Doorverwijzingen", S.SURVEYS: "Enquête",
                S.COMPLAINTS: "Klachten"},
        cols={S.CUSTOMER_ID: "Klantnummer", S.ACQUIRED_AT: "Klant sinds",
              S.SEGMENT: "Klantgroep", S.REGION: "Regio", S.KIND: "Klanttype",
              S.ACQUISITION_CHANNEL: "Herkomst", S.ACQUISITION_COST: "Acquisitiekosten",
              S.REWARD_SCHEME: "Spaarprogramma", S.ORDER_ID: "Bestelnummer",
              S.ORDERED_AT: "Besteldatum", S.AMOUNT: "Bedrag",
              S.PRODUCT_LINE: "Productlijn", S.DISCOUNT: "Korting",
              S.CONTACTED_AT: "Contactdatum", S.CHANNEL: "Kanaal",
              S.DIRECTION: "Richting", S.CAMPAIGN: "Campagne", S.CONTACT_COST: "Kosten",
              S.REFERRER_ID: "Doorverwezen door", S.REFERRED_ID: "Nieuwe klant",
              S.REFERRED_AT: "Verwijsdatum", S.SURVEY: "Enquête", S.ITEM: "Vraag",
              S.ANSWERED_AT: "Antwoorddatum", S.SCORE: "Cijfer", S.OPENED_AT: "Geopend",
              S.RESOLVED_AT: "Opgelost", S.CATEGORY: "Categorie", S.OUTCOME: "Uitkomst"},
        personal={"full_name": "Naam", "first_name": "Voornaam",
                  "last_name": "Achternaam", "email": "E-mailadres",
                  "phone": "Telefoonnummer", "street": "Straat", "iban": "IBAN"},
        directions=("Inkomend", "Uitgaand"), totals="Totaal", title="Verkooprapport",
        exported="Geëxporteerd op", workbook="CRM-export",
        first=("Willemijn", "Joost", "Marieke", "Gerrit", "Annelies", "Maarten"),
        last=("Verhoeven", "Bakkerveld", "Schoonhoven", "Dijkstra", "Hoogendoorn",
              "Kuipers"),
        street="Kerkstraat {n}", phone="06-{s}123", iban="NL", tld="nl"),
    "es": dict(
        tables={S.CUSTOMERS: "Clientes", S.ORDERS: "Pedidos", S.CONTACTS: "Contactos",
                S.REFERRALS: "Recomendaciones", S.SURVEYS: "Encuesta",
                S.COMPLAINTS: "Reclamaciones"},
        cols={S.CUSTOMER_ID: "Número de cliente", S.ACQUIRED_AT: "Cliente desde",
              S.SEGMENT: "Segmento", S.REGION: "Zona", S.KIND: "Tipo de cliente",
              S.ACQUISITION_CHANNEL: "Origen", S.ACQUISITION_COST: "Coste de captación",
              S.REWARD_SCHEME: "Programa de fidelización", S.ORDER_ID: "Número de pedido",
              S.ORDERED_AT: "Fecha de pedido", S.AMOUNT: "Importe",
              S.PRODUCT_LINE: "Línea de producto", S.DISCOUNT: "Descuento",
              S.CONTACTED_AT: "Fecha de contacto", S.CHANNEL: "Canal",
              S.DIRECTION: "Sentido", S.CAMPAIGN: "Campaña", S.CONTACT_COST: "Coste",
              S.REFERRER_ID: "Recomendado por", S.REFERRED_ID: "Cliente nuevo",
              S.REFERRED_AT: "Fecha de recomendación", S.SURVEY: "Encuesta",
              S.ITEM: "Pregunta", S.ANSWERED_AT: "Fecha de respuesta",
              S.SCORE: "Puntuación", S.OPENED_AT: "Abierta", S.RESOLVED_AT: "Resuelta",
              S.CATEGORY: "Categoría", S.OUTCOME: "Resultado"},
        personal={"full_name": "Nombre completo", "first_name": "Nombre",
                  "last_name": "Apellidos", "email": "Correo electrónico",
                  "phone": "Teléfono", "street": "Domicilio", "iban": "IBAN"},
        directions=("Entrante", "Saliente"), totals="Total", title="Informe de ventas",
        exported="Exportado el", workbook="Exportación CRM",
        first=("Inmaculada", "Gonzalo", "Remedios", "Florencio", "Milagros", "Fernando"),
        last=("Villanueva", "Castañeda", "Arrizabalaga", "Echeverría", "Santamaría",
              "Olmedilla"),
        street="Calle Mayor {n}", phone="+34 6{s[0]}{s[1]} {s[2]}{s[3]}{s[4]} 678",
        iban="ES", tld="es"),
}
#: Region names as each language's clients write them (kept as given: no value map).
_REGIONS = {"de": {"north": "Nord", "south": "Süd", "east": "Ost", "west": "West"},
            "fr": {"north": "Nord", "south": "Sud", "east": "Est",
                   "west": "Île-de-France"},
            "sv": {"north": "Norrland", "south": "Götaland", "east": "Östergötland",
                   "west": "Västergötland"},
            "nl": {"north": "Noord", "south": "Zuid", "east": "Oost", "west": "West"},
            "es": {"north": "Norte", "south": "Andalucía", "east": "Levante",
                   "west": "Galicia"}}
_NOTE_HEADER = {"en": "Note", "de": "Notiz", "fr": "Note interne", "sv": "Notering",
                "nl": "Notitie", "es": "Nota"}
#: Text a spreadsheet would run as a formula, planted in the notes of broken order rows.
FORMULAS = ('=HYPERLINK("http://example.invalid/x";"Gutschein")', "@SUM(1+1)", "=1+1",
            "-2+3", "+A1*2")
#: The time zone of each language's clients (``local`` and ``offset`` dates).
ZONES = {"en": "Europe/London", "de": "Europe/Berlin", "fr": "Europe/Paris",
         "sv": "Europe/Stockholm", "nl": "Europe/Amsterdam", "es": "Europe/Madrid"}
_NEUTRAL_HEADER = {"en": "Notes", "de": "Bemerkung", "fr": "Remarque", "sv": "Anteckning",
                   "nl": "Opmerking", "es": "Observaciones"}
_IBAN_LENGTH = {"GB": 22, "DE": 22, "FR": 27, "SE": 24, "NL": 18, "ES": 24}


