"""Build ``marked_spans.jsonl``: hand-written, fictitious Dutch report passages with every identifier marked.

Each passage below marks an identifier as ``[[surface|KIND]]``; the build strips the markup and
computes exact character offsets, so nobody has to count characters by hand. Every third passage
is the held-out part, scored only once the rules are final; ``FRESH_PASSAGES``, written after that
part had been scored (and so seen), are a second held-out part.
First scores, before anything was changed after seeing them: heldout 95.2 % replaced in full (goal not
met: a letter's dateline, a lower-case IBAN, "zoon Ahmed van 12", "obs de regenboog" and a span that
wrongly included "drs." were fixed after); heldout2 98.3 % with POSTCODE 3 of 4 ("5262 pk": "pk" was
taken for a unit; fixed after). All names, places, institutions,
numbers and contact details are invented (BSNs and IBANs pass their checks but belong to nobody
we know of); real town names are used as places.

What a span covers: the identifying words only, not the cue before them ("juf [[Anouk]]", "zaaknummer
[[C-889-2021]]", "mevrouw [[S. El Amrani]]"); an age with its unit ("[[twaalf jaar]]", "[[8-jarige]]",
"[[14 jaar oud]]", "hij is [[9]]"); a date with its weekday. A type word before an institution's name
("obs", "gezinshuis", "Stichting") and an article before a lower-case one are marked ``[[...|?]]``:
neither an identifier that must go nor an ordinary word that must stay, they count for nothing.
Every mention of a marked name, place or institution is marked (the build checks this).

    python data/deid/build_marked_spans.py   # rewrites data/deid/marked_spans.jsonl
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from meldtekst.anonymize import CATEGORIES

KINDS = tuple(k for k in CATEGORIES if k != "URL")  # the kinds marked in the set

# (style, passage)
PASSAGES: list[tuple[str, str]] = [
    (
        "ouder",
        "Onze zoon [[Daan Verhoeckx|PERSOON]] is [[11 jaar|LEEFTIJD]] en zit sinds [[14 oktober 2023|DATUM]] "
        "thuis. De school in [[Zwolle|LOCATIE]] zegt dat ze niets meer voor hem kunnen doen. Leerplicht heeft ons "
        "uitgenodigd voor een gesprek. Ik ben bereikbaar op [[06-48213975|TELEFOON]].",
    ),
    (
        "whatsapp",
        "hoi, ik ben de moeder van [[mats|PERSOON]] en [[jens|PERSOON]]. ze zijn [[8|LEEFTIJD]] en zitten allebei "
        "thuis sinds de herfstvakantie. de juf zei dat [[jens|PERSOON]] te druk is voor de klas. wat kan ik doen??",
    ),
    (
        "professional",
        "Gesprek met moeder (mw. [[A. Haddouchi|PERSOON]]) op [[12-03-2024|DATUM]]. Zaaknummer "
        "[[VT-2024-10377|NUMMER]]. Moeder geeft aan dat [[Yassin|PERSOON]] ([[9|LEEFTIJD]]) sinds groep 5 steeds "
        "vaker weigert. Afgesproken dat Veilig Thuis contact opneemt met het samenwerkingsverband.",
    ),
    (
        "brief",
        "Geachte heer [[Kovalenko|PERSOON]],\n\nNaar aanleiding van uw melding van [[2 februari 2024|DATUM]] "
        "(ons kenmerk [[24/0871|NUMMER]]) delen wij u mee dat de Raad voor de Kinderbescherming een onderzoek "
        "start naar de situatie van uw dochter [[Sofiia|PERSOON]].\n\nMet vriendelijke groet,\n"
        "[[J. van Amerongen|PERSOON]]\nRaad voor de Kinderbescherming, vestiging [[Amersfoort|LOCATIE]]",
    ),
    (
        "forum",
        "Herkenbaar! Bij ons precies hetzelfde. Mijn dochter is [[twaalf jaar|LEEFTIJD]] en heeft autisme. Ze zit "
        "nu al zeven maanden thuis. De leerplichtambtenaar was eerst heel begripvol maar nu dreigt ze met een "
        "proces-verbaal. Iemand ervaring met de Inspectie van het Onderwijs?",
    ),
    (
        "professional",
        "[[Oleksandr Kovalenko|PERSOON]] belde vanochtend over de plaatsing van zijn zoon. Hij wil dat het dossier "
        "[[2023-004512|NUMMER]] wordt overgedragen aan het wijkteam. Terugbellen op [[+31 6 41236587|TELEFOON]].",
    ),
    (
        "ouder",
        "Sinds groep 6 gaat het mis. Onze [[8-jarige|LEEFTIJD]] wordt elke ochtend misselijk van de spanning. De "
        "intern begeleider van [[obs|?]] [[De Wilgenkamp|INSTELLING]] vindt dat we te toegeeflijk zijn. Gisteren belde "
        "Veilig Thuis, onder zaaknummer [[VT-2022-88812|NUMMER]].",
    ),
    (
        "whatsapp",
        "juf [[anouk|PERSOON]] heeft vandaag weer gebeld. [[sara|PERSOON]] mag morgen alleen van 9 tot 11 komen. "
        "ik trek het niet meer, ik moet gewoon werken",
    ),
    (
        "brief",
        "Aan de ouders van [[Thijs ter Horst|PERSOON]]\n[[Lindenhof 9|ADRES]]\n[[3581 CD|POSTCODE]] "
        "[[Utrecht|LOCATIE]]\n\n[[Heerdijk|LOCATIE]], [[18 september 2023|DATUM]]\n\nBetreft: verzuim, "
        "dossiernummer [[D2023-1187|NUMMER]]\n\nGeachte ouders, uw zoon is in de afgelopen vier weken 23 uur "
        "ongeoorloofd afwezig geweest.",
    ),
    (
        "forum",
        "Reactie van [[Moeder_van_3|PERSOON]]: bij ons zei de GGZ letterlijk dat er een wachtlijst van een jaar is. "
        "Ondertussen zit mijn zoon van [[veertien|LEEFTIJD]] op zijn kamer te gamen. Het samenwerkingsverband "
        "schuift alles door.",
    ),
    (
        "professional",
        "Notitie [[03-11-2023|DATUM]]: vader ([[Mehmet Yılmaz|PERSOON]]) geeft aan dat [[Emre|PERSOON]] na de "
        "zomer niet meer naar het [[Wiekslag College|INSTELLING]] wil. Moeder werkt in [[Apeldoorn|LOCATIE]]. "
        "Contact via [[m.yilmaz82@voorbeeldmail.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Mijn naam is [[Sanne van der Meulen|PERSOON]], moeder van [[Fenna|PERSOON]] ([[10|LEEFTIJD]]). Wij wonen "
        "aan de [[Kastanjelaan 17b|ADRES]], [[4321 ZX|POSTCODE]] [[Heerdijk|LOCATIE]]. Ons BSN-nummer van "
        "[[Fenna|PERSOON]] "
        "is [[656036783|BSN]], dat vroegen ze bij het aanmeldformulier.",
    ),
    (
        "whatsapp",
        "wij wonen op [[3581 cd|POSTCODE]] dus we vallen onder een ander samenwerkingsverband zeggen ze nu. "
        "belachelijk. mijn zoontje [[noah|PERSOON]] is [[6|LEEFTIJD]] en heeft nog nooit een hele dag school gehad",
    ),
    (
        "professional",
        "Verslag MDO [[27 maart 2024|DATUM]]. Aanwezig: [[Lieke Bosman|PERSOON]] (IB), [[Kofi Mensah|PERSOON]] "
        "(vader), [[Marloes Hietbrink|PERSOON]] (leerplicht). Besproken: thuiszitten sinds de kerstvakantie, "
        "mogelijke plaatsing op het SBO. Actie: TLV aanvragen.",
    ),
    (
        "brief",
        "Hierbij verzoeken wij u het eigen risico van € 385 over te maken op rekeningnummer "
        "[[NL17 BUNQ 6812 4886 27|IBAN]] ten name van [[Stichting|?]] [[Ouders Samen|INSTELLING]], onder vermelding "
        "van "
        "factuurnummer [[F-2024-0192|NUMMER]].",
    ),
    (
        "forum",
        "Wij hebben hetzelfde meegemaakt in [[Valkenmoer|LOCATIE]]. Onze dochter was toen [[elf|LEEFTIJD]] en "
        "kreeg een OTS omdat we 'niet meewerkten'. Nu is ze [[17|LEEFTIJD]] en nog steeds boos op iedereen.",
    ),
    (
        "whatsapp",
        "heb net met [[bram|PERSOON]] van het wijkteam gebeld, hij komt dinsdag langs. ook de moeder van "
        "[[liv|PERSOON]] heeft hetzelfde probleem met die school",
    ),
    (
        "professional",
        "Cliënt: [[Aylin Demir|PERSOON]], geboren [[04-07-2012|DATUM]], BSN [[404 376 198|BSN]]. Adres: "
        "[[Burgemeester Visserstraat 112|ADRES]], [[2312 BK|POSTCODE]] [[Leiden|LOCATIE]]. Telefoon moeder: "
        "[[071-5123344|TELEFOON]].",
    ),
    (
        "ouder",
        "Gisteren hebben we een brief gekregen van de Raad voor de Kinderbescherming, kenmerk "
        "[[RvdK-2024-55120|NUMMER]]. Er komt een onderzoek omdat onze [[zesjarige|LEEFTIJD]] niet naar school "
        "gaat. Maar hij kán niet, hij heeft een angststoornis!",
    ),
    (
        "brief",
        "[[Wouter van 't Zand|PERSOON]]\nLeerplichtambtenaar gemeente [[Zandhoven|LOCATIE]]\nT "
        "[[0546 123456|TELEFOON]]\nE [[w.vantzand@zandhoven-voorbeeld.nl|EMAIL]]\n\nOns kenmerk: "
        "[[LP/2023/4471|NUMMER]]",
    ),
    (
        "forum",
        "Sinds [[september 2022|DATUM]] zit mijn zoon thuis, hij is nu [[13|LEEFTIJD]]. Autisme en ADHD. De "
        "Jeugdbescherming zegt dat het aan ons ligt. Iedereen die dit leest: laat je niet wegzetten!",
    ),
    (
        "whatsapp",
        "ok dus [[lotte|PERSOON]] haar mentor heet dhr. [[kuipers|PERSOON]]",
    ),
    (
        "professional",
        "Telefonisch contact met [[Agnieszka Wiśniewska|PERSOON]], moeder van [[Kacper|PERSOON]] "
        "([[7|LEEFTIJD]]). Moeder spreekt beperkt Nederlands; tolk geregeld. Registratienummer "
        "[[88213-A|NUMMER]].",
    ),
    (
        "ouder",
        "Het gaat om [[Milan Petrović|PERSOON]], een jongen van [[15 jaar|LEEFTIJD]]. Hij zat op "
        "[[SBO|?]] [[De Brugwachter|INSTELLING]] en daarna op het voortgezet speciaal onderwijs. Na de zomer was er "
        "ineens geen plek meer.",
    ),
    (
        "brief",
        "Zaaknummer [[C-889-2021|NUMMER]]\n\nDe kinderrechter heeft op [[9 mei 2022|DATUM]] besloten dat de "
        "ondertoezichtstelling van [[Ruth Tesfaye|PERSOON]], geboren op [[21-11-2010|DATUM]], wordt verlengd.",
    ),
    (
        "forum",
        "Bij ons op [[basisschool|?]] [['t Kompas|INSTELLING]] in [[Heerdijk|LOCATIE]] mocht een meisje van "
        "[[elf|LEEFTIJD]] niet mee op schoolreis omdat ze 'te onvoorspelbaar' was. Schandalig.",
    ),
    (
        "whatsapp",
        "mijn email is [[petra.oosterbaan@voorbeeld.nl|EMAIL]] of bel [[0612345670|TELEFOON]]. ik woon in "
        "[[zandhoven|LOCATIE]]",
    ),
    (
        "professional",
        "Overdracht van [[Esmée de Groot|PERSOON]] (jeugdconsulent) aan [[Jasper van den Akker|PERSOON]]. "
        "Gezin woont sinds [[1 april|DATUM]] op het [[Molenpad 3|ADRES]] in [[Valkenmoer|LOCATIE]]. Kinderen: "
        "[[Gijs|PERSOON]] ([[14|LEEFTIJD]]) en [[Zoë|PERSOON]] ([[9|LEEFTIJD]]).",
    ),
    (
        "ouder",
        "Mijn dochter [[Priya Ramdin|PERSOON]] is [[16|LEEFTIJD]] en al twee jaar thuiszitter. Het "
        "samenwerkingsverband heeft geen passende plek. Via de Kinderombudsman proberen we nu iets te bereiken.",
    ),
    (
        "brief",
        "Wij verzoeken u het verschuldigde bedrag binnen veertien dagen over te maken op "
        "[[NL80RABO9880146918|IBAN]] onder vermelding van dossier [[2024-000318|NUMMER]].",
    ),
    (
        "forum",
        "Tip voor iedereen: vraag altijd het OPP op. Wij kregen het pas na drie maanden. De school "
        "([[Het Zonnewiel|INSTELLING]] in [[Dordrecht|LOCATIE]]) had er nooit iets in gezet.",
    ),
    (
        "whatsapp",
        "[[sem|PERSOON]] is nu [[negen|LEEFTIJD]] en nog steeds geen school. zijn broer [[finn|PERSOON]] "
        "gaat gewoon naar groep 7",
    ),
    (
        "professional",
        "Melding ontvangen op [[2023-09-12|DATUM]] van [[Chantal Ruigrok|PERSOON]] (tel. "
        "[[06 1928 3746|TELEFOON]]). Betreft [[10-jarige|LEEFTIJD]] jongen met ernstige schoolangst. "
        "Referentie [[REF-77812|NUMMER]].",
    ),
    (
        "ouder",
        "Wij hebben het PGB van onze zoon laten storten op [[NL54 ABNA 9223 1760 09|IBAN]]. Toen bleek dat "
        "het zorgkantoor het geld terugvorderde. Zijn BSN is [[393.993.322|BSN]] mocht u het willen nakijken.",
    ),
    (
        "brief",
        "Geachte mevrouw [[Oosterbaan|PERSOON]],\n\nOp [[5 december 2023|DATUM]] ontvingen wij uw klacht over "
        "[[Jeugdzorg|?]] [[Wadlanden|INSTELLING]]. Uw klacht is geregistreerd onder nummer [[KL-2023-0451|NUMMER]].",
    ),
    (
        "forum",
        "Mijn kind is [[14 jaar oud|LEEFTIJD]] en heeft PDD-NOS. Ze is sinds groep 8 nooit meer een volle week "
        "naar school geweest. Helaas doet de Inspectie niets met meldingen van ouders.",
    ),
    (
        "whatsapp",
        "hee [[tess|PERSOON]] hier, moeder van [[jurre|PERSOON]] uit groep 6. hebben jullie ook die brief van "
        "leerplicht gekregen?",
    ),
    (
        "professional",
        "[[Nguyen Thi Lan|PERSOON]] meldde zich bij de balie met haar zoon. Ze woont op de "
        "[[Van Heemskerckweg 4-2|ADRES]], [[1012ab|POSTCODE]] [[Amsterdam|LOCATIE]]. Verwezen naar het "
        "Centrum voor Jeugd en Gezin.",
    ),
    (
        "ouder",
        "In [[november 2022|DATUM]] kreeg onze zoon een time-out van vijf dagen. Hij was toen [[7|LEEFTIJD]]. "
        "Volgens de directeur, meneer [[Brinkhuis|PERSOON]], was het 'voor zijn eigen bestwil'.",
    ),
    (
        "brief",
        "Betreft: bezwaar tegen het besluit van [[13 juni 2024|DATUM]], uw kenmerk [[BZ 24-1123|NUMMER]]\n\n"
        "Namens mijn cliënte, mevrouw [[S. El Amrani|PERSOON]], wonende te [[Gouda|LOCATIE]], maak ik bezwaar "
        "tegen de weigering van de toelaatbaarheidsverklaring.",
    ),
    (
        "forum",
        "[[Kees_H|PERSOON]] schreef: 'onze zoon van [[8|LEEFTIJD]] wordt elke dag om tien uur opgehaald'. Precies "
        "wat ons ook overkwam met [[obs|?]] [[Het Kraaiennest|INSTELLING]].",
    ),
    (
        "whatsapp",
        "ik heb vanochtend [[samira el amrani|PERSOON]] gesproken, die van de GGZ. ze zegt dat [[yonas|PERSOON]] "
        "op de wachtlijst blijft staan",
    ),
    (
        "professional",
        "Aanmelding: [[Bilal Öztürk|PERSOON]] ([[12|LEEFTIJD]]), [[Kerkstraat 14|ADRES]], [[6511 LK|POSTCODE]] "
        "[[Nijmegen|LOCATIE]]. BSN: [[591134792|BSN]]. Moeder: [[Dragana Petrović|PERSOON]], "
        "[[dragana.p@voorbeeld.org|EMAIL]].",
    ),
    (
        "ouder",
        "Onze tweeling [[Luuk|PERSOON]] en [[Femke|PERSOON]] is [[negen jaar|LEEFTIJD]]. [[Femke|PERSOON]] mag naar "
        "school, "
        "[[Luuk|PERSOON]] niet. De Leerplicht zegt dat wij moeten kiezen. Hoe dan?",
    ),
    (
        "brief",
        "Uitnodiging\n\nHierbij nodigen wij u uit voor een gesprek op [[dinsdag 16 januari 2024|DATUM]] om "
        "14.00 uur over [[Jayden Koster|PERSOON]]. Dossiernummer [[JB-2023-7781|NUMMER]]. Met vriendelijke "
        "groet, drs. [[E. Zandstra|PERSOON]], jeugdarts.",
    ),
    (
        "forum",
        "Herken je dit? Onze dochter is [[13|LEEFTIJD]]. De mentor zegt dat ze 'gewoon moet'. Maar ze heeft "
        "autisme en gaat kapot aan de drukte. Wij zijn bij de huisarts geweest, bij de GGZ, bij Veilig Thuis.",
    ),
    (
        "whatsapp",
        "[[kofi|PERSOON]] zegt dat meester [[ruben|PERSOON]] hem heeft vastgepakt. ik ga morgen naar de directie",
    ),
    (
        "professional",
        "Huisbezoek [[6 februari|DATUM]]. Aanwezig moeder [[Hendrika Oosterbaan|PERSOON]] en stiefvader. "
        "[[Rohan|PERSOON]] ([[11|LEEFTIJD]]) zat op zijn kamer. Adres: [[Dahliastraat 28|ADRES]], "
        "[[7521CD|POSTCODE]] [[Enschede|LOCATIE]].",
    ),
    (
        "ouder",
        "Ik wil graag melden wat er met onze dochter is gebeurd op [[Montessorischool|?]] [[De Linde|INSTELLING]]. "
        "Ze is [[acht|LEEFTIJD]] en werd in een aparte ruimte opgesloten. Mijn nummer is "
        "[[06-23456781|TELEFOON]].",
    ),
    (
        "brief",
        "Aan: [[M. Kuipers-de Wit|PERSOON]]\n[[Hoofdstraat 61|ADRES]]\n[[8401 AB|POSTCODE]] "
        "[[Gorredijk|LOCATIE]]\n\nOnderwerp: melding [[M-2024-0412|NUMMER]]",
    ),
    (
        "forum",
        "Na drie jaar strijd heeft mijn zoon eindelijk een plek. Hij is nu [[vijftien|LEEFTIJD]]. Niet opgeven "
        "mensen, en schakel een onderwijsconsulent in!",
    ),
    (
        "whatsapp",
        "gisteren weer gesprek op school met [[ilse roodbeen|PERSOON]] en de ib'er. ze willen dat [[daan|PERSOON]] "
        "naar [[de|?]] [[klimop|INSTELLING]] gaat maar dat is 40 minuten rijden",
    ),
    (
        "professional",
        "Intake [[19-01-2024|DATUM]]. Jeugdige: [[Julia van Dijk-Hoekstra|PERSOON]], [[16 jaar|LEEFTIJD]]. "
        "Verwezen door huisarts dr. [[Bakhuizen|PERSOON]]. Zaaknummer [[ZN-24-00193|NUMMER]].",
    ),
    (
        "ouder",
        "Mijn zoon [[Kacper Nowak|PERSOON]] ([[13|LEEFTIJD]]) woont met mij in [[Emmen|LOCATIE]]. Wij zijn uit "
        "Polen gekomen in [[2019|?]]. Hij spreekt goed Nederlands maar de school wil hem naar de ISK sturen.",
    ),
    (
        "brief",
        "Kenmerk: [[U24.00871|NUMMER]]\nDatum: [[28 februari 2024|DATUM]]\n\nGeachte heer [[Mensah|PERSOON]], "
        "wij bevestigen de ontvangst van uw aanvraag voor leerlingenvervoer voor [[Abena|PERSOON]].",
    ),
    (
        "forum",
        "Wij wonen in [[Oudewater|LOCATIE]] en hier is helemaal niks. De dichtstbijzijnde school voor speciaal "
        "onderwijs is in [[Utrecht|LOCATIE]]. Mijn dochter van [[negen|LEEFTIJD]] zit dus anderhalf uur per dag "
        "in een taxi.",
    ),
    (
        "whatsapp",
        "het adres van de zorgboerderij is [[hoevelaan 12|ADRES]] in [[barneveld|LOCATIE]]. [[esmee|PERSOON]] "
        "gaat daar vanaf maandag heen",
    ),
    (
        "professional",
        "Zorgmelding via Zorg voor Jeugd, registratienummer [[2024-118832|NUMMER]]. Betreft [[Yonas Tesfaye|PERSOON]], "
        "[[12-jarige|LEEFTIJD]] jongen, woonachtig te [[Tiel|LOCATIE]]. Contactpersoon school: "
        "[[r.dekker@wiekslag-voorbeeld.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Op [[3 april|DATUM]] kregen wij een brief van leerplicht. Daar stond in dat [[Noor|PERSOON]] niet meer "
        "ongeoorloofd mag verzuimen. [[Noor|PERSOON]] heeft ME/CVS! De jeugdarts weet dat al sinds [[2022|?]].",
    ),
    (
        "brief",
        "Geachte ouder/verzorger van [[Liam Bouzidi|PERSOON]],\n\nOp grond van artikel 13 van de Leerplichtwet "
        "1969 ontvangt u een waarschuwing. Voor vragen: [[030 - 2345678|TELEFOON]] of "
        "[[leerplicht@gemeente-voorbeeld.nl|EMAIL]].",
    ),
    (
        "forum",
        "Update: het gesprek met de Raad voor de Kinderbescherming was heel anders dan verwacht. De "
        "raadsonderzoeker, een vrouw van in de vijftig, luisterde echt. Onze [[16-jarige|LEEFTIJD]] durfde "
        "eindelijk te vertellen wat er op school gebeurde.",
    ),
    (
        "whatsapp",
        "bel me even op [[06 41 82 93 17|TELEFOON]], [[gijs|PERSOON]] is weer naar huis gestuurd. zaaknummer "
        "van veilig thuis is [[vt-2023-44021|NUMMER]] als je dat nodig hebt",
    ),
    (
        "professional",
        "Beschikking ontvangen, zaaknummer [[C/16/512345|NUMMER]]. OTS van [[Sem Jansen|PERSOON]] "
        "(geb. [[17-08-2013|DATUM]]) verlengd tot [[17 augustus 2025|DATUM]]. Gezinsvoogd: "
        "[[Ilse de Vries-Bakker|PERSOON]].",
    ),
    (
        "ouder",
        "Ik ben [[Dragana|PERSOON]] en mijn dochter is [[tien jaar|LEEFTIJD]]. Ze zit op de "
        "[[Regenboogschool|INSTELLING]] in [[Den Helder|LOCATIE]]. De school belt elke dag dat ik haar moet "
        "komen halen.",
    ),
    (
        "brief",
        "Rekeninggegevens voor de terugbetaling: IBAN [[NL34INGB7329105232|IBAN]] t.n.v. "
        "[[A.M. Haddouchi|PERSOON]]. Uw BSN [[245 095 573|BSN]] gebruiken wij alleen voor deze aanvraag.",
    ),
    (
        "forum",
        "[[Jolanda_74|PERSOON]]: wij hebben uiteindelijk een advocaat genomen. Het kostte veel geld maar de rechter "
        "gaf ons gelijk. Mijn zoon is nu [[18|LEEFTIJD]] en studeert.",
    ),
    (
        "whatsapp",
        "vandaag belde [[wiktoria nowak|PERSOON]] van jeugdzorg, ze wil volgende week op huisbezoek. ons "
        "dossiernummer is [[2023-009981|NUMMER]]",
    ),
    (
        "professional",
        "Casus [[Aisha Mohamed|PERSOON]] ([[15|LEEFTIJD]]). Moeder [[Fadumo Warsame|PERSOON]] is bereikbaar via "
        "[[+31 (0)6 21436587|TELEFOON]]. Postadres: [[Plantsoenweg 7|ADRES]], [[2031 xk|POSTCODE]] "
        "[[Haarlem|LOCATIE]].",
    ),
    (
        "ouder",
        "Vorige week is onze zoon ([[9 jr|LEEFTIJD]]) door twee begeleiders van [[De Hoge Weide|INSTELLING]] "
        "in een houdgreep genomen. Wij hebben aangifte gedaan bij de politie in [[Ede|LOCATIE]].",
    ),
    (
        "brief",
        "Hierbij ontvangt u het verslag van het gesprek op [[11-04-2024|DATUM]] met [[Piet Hoekstra|PERSOON]] "
        "(leerplichtambtenaar) en [[Kim van Beek|PERSOON]] (intern begeleider). Uw kenmerk: "
        "[[2024/LP/0088|NUMMER]].",
    ),
    (
        "forum",
        "Wie kent [[Kompas Jeugdhulp|INSTELLING]] in [[Hoogeveen|LOCATIE]]? Wij moeten daar van de gemeente "
        "heen maar ik lees slechte verhalen. Mijn zoon is [[elf jaar|LEEFTIJD]].",
    ),
    (
        "whatsapp",
        "nee [[mila|PERSOON]] is nog steeds ziek thuis. de school heeft ons bsn nodig: [[603905900|BSN]]. "
        "en de iban voor de ouderbijdrage is [[nl47knab7148133438|IBAN]]",
    ),
    (
        "professional",
        "Dossier [[2022-07715|NUMMER]]: betrokkene [[Ravi Ramsaran|PERSOON]] woont met zijn [[14-jarige|LEEFTIJD]] "
        "zoon aan de [[Esdoornlaan 2|ADRES]] in [[Almere|LOCATIE]]. Postcode [[1333 ZR|POSTCODE]].",
    ),
    (
        "ouder",
        "Onze dochter [[Lina|PERSOON]] heeft het syndroom van Down. Ze is [[vijf|LEEFTIJD]] en [[De Kleine "
        "Beer|INSTELLING]] "
        "wil haar niet toelaten. Wij wonen in [[Veenendaal|LOCATIE]], [[3901 ab|POSTCODE]].",
    ),
    (
        "brief",
        "Beste [[Marieke|PERSOON]],\n\nZoals besproken stuur ik je de gegevens. IBAN: [[NL86 SNSB 6715 8328 "
        "95|IBAN]] BSN kind: [[175.149.161|BSN]]\n\nGroet, [[Hasan Aydın|PERSOON]]",
    ),
    (
        "professional",
        "Aanvraag TLV voor [[Tobias Wennekes|PERSOON]], BSN [[107172951|BSN]], ingediend bij het "
        "samenwerkingsverband op [[8 januari 2024|DATUM]]. Ouders bereikbaar op [[06-19283746|TELEFOON]] en "
        "[[fam.wennekes@voorbeeldpost.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Het zorgkantoor wil dat ik de eigen bijdrage betaal via [[NL47ASNB9825001888|IBAN]]. Wij wonen op "
        "[[Zonnebloemstraat 41|ADRES]], [[5611 HK|POSTCODE]] [[Eindhoven|LOCATIE]]. Mijn telefoon: "
        "[[040-2468135|TELEFOON]].",
    ),
    (
        "brief",
        "Aan de directie van [[cbs|?]] [[De Fontein|INSTELLING]]\n[[Schoolstraat 5|ADRES]]\n[[9401 KL|POSTCODE]] "
        "[[Assen|LOCATIE]]\n\nGeachte directie, namens de ouders van [[Sven Mulder|PERSOON]] (BSN "
        "[[490222286|BSN]]) tekenen wij bezwaar aan.",
    ),
    (
        "whatsapp",
        "[[jesse|PERSOON]] zit nu op [[de|?]] [[vlinderhof|INSTELLING]] maar daar gaat het ook niet goed. mail me "
        "maar op [[kimvdberg@voorbeeld.nl|EMAIL]] dan stuur ik het verslag",
    ),
    (
        "professional",
        "Contactgegevens gezinsvoogd: [[Thomas Brouwer|PERSOON]], [[t.brouwer@jbvoorbeeld.nl|EMAIL]], "
        "[[088 7654321|TELEFOON]]. Jeugdige verblijft bij [[Gezinshuis|?]] [[De Notenboom|INSTELLING]] in "
        "[[Harderwijk|LOCATIE]].",
    ),
    (
        "ouder",
        "Ik heb [[Stichting|?]] [[Kindkompas|INSTELLING]] gevraagd om een second opinion. De psycholoog daar, "
        "[[Annelies Borgers|PERSOON]], schreef dat onze zoon van [[zeven|LEEFTIJD]] hoogbegaafd is en zich "
        "verveelt. Reacties graag naar [[ouders.demir@voorbeeldmail.nl|EMAIL]].",
    ),
    (
        "brief",
        "Factuur [[2024-0553|NUMMER]]\n\nTe betalen: € 120,00 op rekening [[NL10 INGB 9093 7355 81|IBAN]] "
        "t.n.v. [[Praktijk|?]] [[Zonnekind|INSTELLING]], [[Beukenlaan 22|ADRES]], [[6717 BJ|POSTCODE]] "
        "[[Ede|LOCATIE]]. "
        "Vragen? [[info@zonnekind-voorbeeld.nl|EMAIL]]",
    ),
    (
        "forum",
        "Wij kregen een brief van [[Lyceum Ter Valkenmoer|INSTELLING]] dat onze dochter ([[15|LEEFTIJD]]) "
        "'onvoldoende belastbaar' is. Dat terwijl de Leerplicht er niets van wist. Tips?",
    ),
    (
        "professional",
        "Gegevens moeder: [[Fatima Bouali|PERSOON]], geboren [[22-05-1986|DATUM]], BSN [[508 208 774|BSN]], "
        "[[0031 6 12873645|TELEFOON]]. Kind staat ingeschreven bij [[IKC|?]] [[Het Anker|INSTELLING]].",
    ),
    (
        "ouder",
        "Onze zoon [[Jayden|PERSOON]] zat op [[De Vlinderhof-Zuid|INSTELLING]]. Sinds [[januari 2024|DATUM]] "
        "zit hij thuis. Ik ben bereikbaar op [[06 87 65 43 21|TELEFOON]] of [[mama.jayden@voorbeeld.nl|EMAIL]].",
    ),
    (
        "whatsapp",
        "ons nieuwe adres is [[bremstraat 19|ADRES]], [[2513ak|POSTCODE]] [[den haag|LOCATIE]]. rekeningnummer voor de "
        "schoolreis: [[NL24TRIO4010368964|IBAN]]",
    ),
    (
        "brief",
        "Uw zaak is bekend onder nummer [[ZK-2024-1190|NUMMER]]. De betaling van de proceskosten kunt u "
        "voldoen op [[NL20 SNSB 2343 1188 97|IBAN]]. Het BSN van uw kind ([[681.796.820|BSN]]) staat "
        "vermeld in de bijlage.",
    ),
    (
        "professional",
        "Betreft [[Levi Scholten|PERSOON]] (BSN [[244838318|BSN]]), leerling van [[Daltonschool|?]] [[De "
        "Sterrenwacht|INSTELLING]]. "
        "Moeder: [[Naomi Scholten|PERSOON]], [[n.scholten@voorbeeldmail.nl|EMAIL]], [[06-34343434|TELEFOON]].",
    ),
    (
        "forum",
        "Mijn ervaring met [[Horizonhuis Jeugd|INSTELLING]] is heel slecht. Mijn dochter, toen [[veertien|LEEFTIJD]], "
        "werd daar in de separeer gezet. Meer weten? Mail [[lotgenoten.groep@voorbeeld.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Mijn zoon [[Ahmed|PERSOON]] van [[12|LEEFTIJD]] heeft op [[Het Baken College|INSTELLING]] een schorsing "
        "gekregen van vijf dagen. Wij wonen op [[Wilgenweg 88|ADRES]], [[1506 TR|POSTCODE]] "
        "[[Zaandam|LOCATIE]].",
    ),
    (
        "brief",
        "Betaling kinderbijslag stopgezet. Uw gegevens: BSN [[686817011|BSN]], rekening "
        "[[NL81 BUNQ 2238 5224 12|IBAN]], klantnummer [[4408812|NUMMER]]. Bezwaar binnen zes weken.",
    ),
    (
        "whatsapp",
        "kun je [[ayla|PERSOON]] haar bsn even sturen? het is [[346 659 723|BSN]] toch? en jouw nummer is "
        "[[0687654329|TELEFOON]]?",
    ),
    (
        "professional",
        "Melding doorgezet naar [[Jeugdteam|?]] [[Heuvelrug-Oost|INSTELLING]], dossier [[2024-001177|NUMMER]]. "
        "Moeder woont op [[Vinkenlaan 3a|ADRES]], [[3972 LB|POSTCODE]] [[Driebergen|LOCATIE]], tel. "
        "[[0343-456789|TELEFOON]].",
    ),
    (
        "ouder",
        "Ik wil een klacht indienen over [[Sportclub|?]] [[De Valk|INSTELLING]]. De trainer heeft onze "
        "[[11-jarige|LEEFTIJD]] "
        "uitgescholden. Contact: [[j.aydin@voorbeeld.com|EMAIL]], [[06-98765432|TELEFOON]].",
    ),
    (
        "brief",
        "Geachte heer [[De Jong|PERSOON]], wij hebben uw betaling ontvangen op [[NL15SNSB5040705477|IBAN]]. Het "
        "BSN van [[Mees|PERSOON]] ([[365 423 105|BSN]]) is gecontroleerd. Uw adres [[Goudsbloemhof 14|ADRES]], "
        "[[2805 GX|POSTCODE]] [[Gouda|LOCATIE]] is gewijzigd.",
    ),
    (
        "forum",
        "Pas op met [[Kinderpraktijk|?]] [[Het Vlot|INSTELLING]] in [[Arnhem|LOCATIE]]. Daar werd onze zoon van "
        "[[negen|LEEFTIJD]] zonder overleg vastgehouden. Ik heb het gemeld bij de Inspectie.",
    ),
    (
        "whatsapp",
        "postcode is [[6824 dk|POSTCODE]] en huisnummer 12. mail naar [[oma.truus@voorbeeld.nl|EMAIL]] als het "
        "niet lukt. de iban is [[NL90 SNSB 0001 0846 47|IBAN]]",
    ),
    (
        "professional",
        "Verwijzing naar [[GGZ|?]] [[Heuvelrand Jeugd|INSTELLING]] voor [[Noah El Khatib|PERSOON]] ([[10|LEEFTIJD]]). "
        "BSN [[387922684|BSN]]. Ouders: [[z.elkhatib@voorbeeld.nl|EMAIL]], [[06-11223344|TELEFOON]].",
    ),
    (
        "ouder",
        "Bij [[Zorgboerderij|?]] [[De Hoge Akker|INSTELLING]] in [[Lunteren|LOCATIE]] is onze zoon wel gelukkig. Maar "
        "de gemeente betaalt het niet meer. IBAN van de boerderij: [[NL58 SNSB 1610 6040 89|IBAN]].",
    ),
    (
        "brief",
        "Uitspraak in de zaak met kenmerk [[JE RK 23-1187|NUMMER]]. Ouders: [[Erik Smits|PERSOON]] en "
        "[[Monique Smits-Veldhuis|PERSOON]], wonende aan de [[Prinsengracht 401|ADRES]], [[1016 HN|POSTCODE]] "
        "[[Amsterdam|LOCATIE]].",
    ),
    (
        "forum",
        "Wie heeft ervaring met het [[Kiekendief Lyceum|INSTELLING]]? Onze zoon van [[12|LEEFTIJD]] kan daar "
        "misschien terecht. Graag een berichtje naar [[vader.van.twee@voorbeeld.nl|EMAIL]].",
    ),
    (
        "whatsapp",
        "de nieuwe school is [[obs|?]] [[de|?]] [[regenboog|INSTELLING]] in [[zeist|LOCATIE]], mijn nieuwe nummer is "
        "[[06-55512345|TELEFOON]]. bsn van [[timo|PERSOON]] is [[238336517|BSN]]",
    ),
    (
        "forum",
        "Bij ons in [[Hengelo|LOCATIE]] is het net zo. De school zegt dat er geen geld is voor een "
        "onderwijsassistent. Onze zoon is [[tien|LEEFTIJD]] en zit sinds de meivakantie thuis.",
    ),
    (
        "professional",
        "Notitie: moeder belde over het OPP. Zij vindt dat [[Jente|PERSOON]] ([[8|LEEFTIJD]]) te weinig uren "
        "krijgt. Terugkoppeling via de IB'er, [[Gerda Lammers|PERSOON]].",
    ),
    (
        "brief",
        "Correspondentieadres: [[secretariaat@oudersamen-voorbeeld.nl|EMAIL]]. Donaties zijn welkom op "
        "[[NL83SNSB0454486150|IBAN]]. Contactpersoon: [[Rianne Postma|PERSOON]], "
        "[[r.postma@oudersamen-voorbeeld.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Wij zijn het niet eens met het besluit van de gemeente [[Heerdijk|LOCATIE]] over het vervoer. Mijn "
        "dochter van [[zestien|LEEFTIJD]] moet nu zelf met de bus, terwijl ze dat door haar angst niet kan.",
    ),
    (
        "whatsapp",
        "ik stuur je de mail van mevrouw [[bakker|PERSOON]] door. ze zei dat [[olivia|PERSOON]] na de zomer naar het "
        "vso mag",
    ),
    (
        "professional",
        "Aanmelding via [[aanmelding@kindkompas-voorbeeld.nl|EMAIL]] ontvangen van [[Eva Hoogendoorn|PERSOON]]. "
        "Rekeningnummer voor restitutie: [[NL04 SNSB 2056 2482 81|IBAN]]. Kenmerk [[KK-2024-318|NUMMER]].",
    ),
    (
        "ouder",
        "Op [[21 maart|DATUM]] hadden we een gesprek met leerplicht en het samenwerkingsverband. Niemand had "
        "het dossier gelezen. Ik heb alles nog eens gemaild naar [[leerplicht.zandhoven@voorbeeld.nl|EMAIL]].",
    ),
    (
        "forum",
        "Wil je meer weten over onze oudergroep in [[Meppel|LOCATIE]]? Stuur een mail naar "
        "[[oudergroep.meppel@voorbeeld.nl|EMAIL]] of naar mij, [[anja.vermeulen@voorbeeld.nl|EMAIL]].",
    ),
    (
        "brief",
        "Uw aanvraag persoonsgebonden budget voor [[Ties Veldkamp|PERSOON]] is toegekend. Uitbetaling op "
        "[[NL35 KNAB 5382 8071 80|IBAN]]. Vragen? Mail [[pgb@zorgkantoor-voorbeeld.nl|EMAIL]] onder "
        "vermelding van [[PGB-2024-77120|NUMMER]].",
    ),
]

# Written after the rules were final and the first held-out part had been scored (and so seen): a second
# held-out part, scored once.
FRESH_PASSAGES: list[tuple[str, str]] = [
    (
        "ouder",
        "Goedemiddag, ik schrijf namens mijn dochter [[Hanne Wolters|PERSOON]]. Ze is [[vijftien|LEEFTIJD]] en "
        "zit sinds de voorjaarsvakantie thuis. De mentor, meneer [[Dijkhuis|PERSOON]], zegt dat ze 'gewoon moet "
        "komen'. U kunt mij bellen op [[06-31415926|TELEFOON]].",
    ),
    (
        "whatsapp",
        "hoi! [[ruben|PERSOON]] hier, vader van [[lars|PERSOON]]. hij is [[10|LEEFTIJD]] en mag sinds maandag "
        "niet meer mee met de gymles. leerplicht heeft het zaaknummer [[LP-2024-3312|NUMMER]] gegeven",
    ),
    (
        "professional",
        "Gespreksverslag [[14-05-2024|DATUM]]. Aanwezig: moeder ([[Yasmina Bakkali|PERSOON]]), IB'er, "
        "leerplichtambtenaar. Jeugdige [[Rayan|PERSOON]] ([[13|LEEFTIJD]]) verzuimt structureel. Afspraak: "
        "aanmelding bij het samenwerkingsverband, dossier [[2024-002231|NUMMER]].",
    ),
    (
        "brief",
        "Aan de heer [[P. Verbeek|PERSOON]]\n[[Meidoornstraat 27|ADRES]]\n[[7411 GH|POSTCODE]] "
        "[[Deventer|LOCATIE]]\n\n[[Deventer|LOCATIE]], [[2 juli 2024|DATUM]]\nOns kenmerk: "
        "[[OW/24/5510|NUMMER]]\n\nGeachte heer [[Verbeek|PERSOON]], hierbij ontvangt u het besluit.",
    ),
    (
        "forum",
        "Wij zitten in hetzelfde schuitje. Onze [[9-jarige|LEEFTIJD]] heeft autisme en de school in "
        "[[Lelystad|LOCATIE]] wil hem alleen nog 's ochtends. De Inspectie zegt dat ze er niets mee kunnen.",
    ),
    (
        "whatsapp",
        "kan jij [[femke|PERSOON]] morgen ophalen? ik moet naar een gesprek met mevrouw [[van dam|PERSOON]] "
        "van jeugdzorg. mijn bsn staat op het formulier: [[384779025|BSN]]",
    ),
    (
        "professional",
        "[[Dmytro Shevchenko|PERSOON]] (vader) meldt dat zijn dochter [[Olena|PERSOON]] sinds [[maart 2024|DATUM]] "
        "niet meer naar [[obs|?]] [[De Zeester|INSTELLING]] gaat. Contact: [[d.shevchenko@voorbeeldmail.com|EMAIL]].",
    ),
    (
        "brief",
        "Wij verzoeken u het bedrag van € 45,00 over te maken op [[NL26TRIO4379478663|IBAN]] onder vermelding "
        "van factuurnummer [[2024-F-0871|NUMMER]]. Met vriendelijke groet, [[Marijke Hofman|PERSOON]], "
        "administratie.",
    ),
    (
        "ouder",
        "Mijn zoon is [[acht jaar|LEEFTIJD]] en zit op [[basisschool|?]] [[De Vlieger|INSTELLING]] in "
        "[[Hoorn|LOCATIE]]. Gisteren werd hij weer naar huis gestuurd. Ik heb het gemeld bij Veilig Thuis en de "
        "Kinderombudsman.",
    ),
    (
        "forum",
        "[[Marloes_NL|PERSOON]] schreef: wij hebben een advocaat in de arm genomen. Onze dochter van "
        "[[twaalf|LEEFTIJD]] kreeg een time-out van een week zonder dat wij het wisten.",
    ),
    (
        "whatsapp",
        "ons adres is [[lindelaan 4|ADRES]], [[5262 pk|POSTCODE]] [[vught|LOCATIE]]. [[jesper|PERSOON]] zit daar "
        "vlakbij op school",
    ),
    (
        "professional",
        "Cliënt [[Nadia Rahimi|PERSOON]], geb. [[11-02-2011|DATUM]], BSN [[542.285.472|BSN]]. Woonadres "
        "[[Kastanjehof 12|ADRES]], [[3816 BC|POSTCODE]] [[Amersfoort|LOCATIE]]. Telefoon: [[033-4567812|TELEFOON]].",
    ),
    (
        "ouder",
        "Vorig jaar heeft [[Stichting|?]] [[Jeugdhaven|INSTELLING]] onze zoon zonder overleg in een aparte ruimte "
        "gezet. Hij was toen [[zes|LEEFTIJD]]. Nu is hij [[7|LEEFTIJD]] en nog steeds bang.",
    ),
    (
        "brief",
        "Zaaknummer: [[C/05/423187|NUMMER]]\n\nDe kinderrechter te [[Arnhem|LOCATIE]] heeft op "
        "[[19 april 2024|DATUM]] de machtiging uithuisplaatsing van [[Tygo Brink|PERSOON]] verlengd.",
    ),
    (
        "forum",
        "Is er iemand die ervaring heeft met de Raad voor de Kinderbescherming in [[Zaanstad|LOCATIE]]? Mijn "
        "zoon van [[14|LEEFTIJD]] moet daar volgende week op gesprek.",
    ),
    (
        "whatsapp",
        "juf [[marieke|PERSOON]] zei vandaag dat [[bo|PERSOON]] en [[senna|PERSOON]] niet meer naast elkaar mogen "
        "zitten. bel je me even? [[06 2233 4455|TELEFOON]]",
    ),
    (
        "professional",
        "Overleg met [[Samuel Osei|PERSOON]] (jeugdconsulent gemeente [[Almelo|LOCATIE]]) over [[Kwame|PERSOON]], "
        "[[11 jaar|LEEFTIJD]]. Registratienummer [[JC-7781-24|NUMMER]]. Vervolgafspraak [[3 juni|DATUM]].",
    ),
    (
        "brief",
        "Hierbij bevestigen wij dat [[Liva Jansen|PERSOON]] met ingang van [[1 augustus 2024|DATUM]] staat "
        "ingeschreven bij het [[Sterrenlicht College|INSTELLING]]. Vragen kunt u mailen naar "
        "[[administratie@sterrenlicht-voorbeeld.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Wij wonen in [[Winterswijk|LOCATIE]]. Onze zoon [[Pepijn|PERSOON]] is [[negen|LEEFTIJD]] en heeft een "
        "ernstige taalontwikkelingsstoornis. Het samenwerkingsverband wil hem naar het speciaal onderwijs in "
        "[[Doetinchem|LOCATIE]] sturen, een uur rijden.",
    ),
    (
        "forum",
        "Mijn ervaring: de GGZ had een wachtlijst van negen maanden. In die tijd heeft onze dochter van "
        "[[dertien|LEEFTIJD]] bijna niets gegeten. Niemand greep in.",
    ),
    (
        "whatsapp",
        "heb je het nummer van [[anton de graaf|PERSOON]]? die van het wijkteam. ons kenmerk was "
        "[[WT-2023-0912|NUMMER]]",
    ),
    (
        "professional",
        "Melding Veilig Thuis, kenmerk [[VT-2024-20471|NUMMER]]. Betreft [[Ilias Amrani|PERSOON]] "
        "([[6|LEEFTIJD]]) en [[Sara Amrani|PERSOON]] ([[4|LEEFTIJD]]). Moeder: [[06-77889900|TELEFOON]], "
        "[[k.amrani@voorbeeld.nl|EMAIL]].",
    ),
    (
        "brief",
        "De eigen bijdrage wordt geïnd via [[NL42 INGB 4442 9481 73|IBAN]]. Bij vragen kunt u contact opnemen met "
        "[[Joyce Verhoef|PERSOON]], [[0800-1234567|?]], of mailen naar [[j.verhoef@cak-voorbeeld.nl|EMAIL]].",
    ),
    (
        "ouder",
        "Op [[12 februari|DATUM]] kregen wij bericht dat onze dochter [[Evi|PERSOON]] niet meer welkom is op "
        "[[De Regenboogschool|INSTELLING]]. Ze is [[elf jaar oud|LEEFTIJD]]. Haar BSN is [[519 087 914|BSN]], "
        "dat vroegen ze voor de uitschrijving.",
    ),
    (
        "forum",
        "Bij ons in [[Sneek|LOCATIE]] hebben ze een thuiszitterstafel. Klinkt mooi, maar onze zoon ([[15|LEEFTIJD]]) "
        "zit nu al anderhalf jaar thuis. Iemand tips? Mail gerust: [[sneek.ouders@voorbeeld.nl|EMAIL]]",
    ),
    (
        "whatsapp",
        "de school van [[noa|PERSOON]] is [[ikc|?]] [[het|?]] [[palet|INSTELLING]] in [[tilburg|LOCATIE]]. "
        "ze is nu [[5|LEEFTIJD]]",
    ),
    (
        "professional",
        "Terugbelverzoek van [[Halima Yusuf|PERSOON]] over dossiernummer [[2023-014409|NUMMER]]. Zij woont "
        "[[Jan Steenstraat 8|ADRES]], [[2522 RT|POSTCODE]] [[Den Haag|LOCATIE]]. BSN [[315980564|BSN]].",
    ),
    (
        "brief",
        "Aan: fam. [[Kuijpers|PERSOON]]\n\nUw aanvraag voor leerlingenvervoer voor [[Thomas|PERSOON]] "
        "([[10 jaar|LEEFTIJD]]) is afgewezen. U kunt bezwaar maken tot [[30 september 2024|DATUM]], onder "
        "vermelding van [[LLV-2024-0553|NUMMER]].",
    ),
    (
        "ouder",
        "Betalingen voor de zorgboerderij gaan via [[NL95ABNA9182850140|IBAN]]. Ik heb nu al drie maanden niets "
        "terug gehoord van de gemeente [[Ede|LOCATIE]]. Mijn nummer: [[0318 654321|TELEFOON]].",
    ),
    (
        "forum",
        "Wij hebben [[Lukas Novák|PERSOON]] als begeleider gehad via het wijkteam, een topper. Onze zoon van "
        "[[zestien|LEEFTIJD]] durfde eindelijk te praten over wat er op school gebeurd was.",
    ),
]

_MARK = re.compile(r"\[\[(.+?)\|([A-Z?]+)\]\]", re.S)


def parse(marked: str) -> tuple[str, list[dict[str, object]], list[dict[str, int]]]:
    """Plain text, spans and ignored stretches of a marked passage.

    ``?`` marks stretches that are neither an identifier to find nor an ordinary word to keep
    (a bare year): they count neither for recall nor for over-replacement.
    """
    text, spans, ignore, pos = [], [], [], 0
    out_len = 0
    for m in _MARK.finditer(marked):
        before = marked[pos : m.start()]
        text.append(before)
        out_len += len(before)
        surface, kind = m.group(1), m.group(2)
        if kind == "?":
            ignore.append({"start": out_len, "end": out_len + len(surface)})
        else:
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r} in {marked[:60]!r}")
            spans.append({"start": out_len, "end": out_len + len(surface), "kind": kind})
        text.append(surface)
        out_len += len(surface)
        pos = m.end()
    text.append(marked[pos:])
    plain = "".join(text)
    if "[[" in plain or "]]" in plain:
        raise ValueError(f"unbalanced markup in {marked[:60]!r}")
    _check_every_mention_marked(plain, spans)
    return plain, spans, ignore


def _check_every_mention_marked(text: str, spans: list[dict[str, object]]) -> None:
    """A name, place or institution marked once must be marked wherever it recurs in the passage."""
    for span in spans:
        if span["kind"] not in ("PERSOON", "LOCATIE", "INSTELLING"):
            continue
        surface = text[span["start"] : span["end"]]  # type: ignore[misc]
        for m in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", text, flags=re.IGNORECASE):
            if not any(o["start"] <= m.start() and m.end() <= o["end"] for o in spans):  # type: ignore[operator]
                raise ValueError(f"unmarked repeat of {surface!r} in {text[:60]!r}")


def main() -> None:
    out = Path(__file__).with_name("marked_spans.jsonl")
    rows = []
    parts = [("heldout" if i % 3 == 2 else "dev") for i in range(len(PASSAGES))] + ["heldout2"] * len(FRESH_PASSAGES)
    for i, ((style, marked), part) in enumerate(zip(PASSAGES + FRESH_PASSAGES, parts, strict=True)):
        text, spans, ignore = parse(marked)
        row = {"id": f"D{i + 1:03d}", "style": style, "part": part, "text": text, "spans": spans}
        if ignore:
            row["ignore"] = ignore
        rows.append(row)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n = sum(len(r["spans"]) for r in rows)
    print(f"{len(rows)} passages, {n} spans -> {out}")


if __name__ == "__main__":
    main()
