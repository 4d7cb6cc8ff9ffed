"""The life-science vocabulary matching uses to see that a profile term and a call agree.

A company writes "infectious diseases"; a call speaks of "pathogens with epidemic potential"
and "antimicrobial resistance". Each concept below lists the phrases that count as the same
thing, so a profile term that names a concept (or one of its phrases) is looked for through
all of them. Terms outside the vocabulary are looked for as written. Phrases are compared
after :func:`knowledge.match.terms.normalise`, so plurals and hyphens do not matter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    """One idea and the phrases that express it."""

    name: str
    phrases: tuple[str, ...]
    kind: str = "technology"  # "therapeutic area", "technology" or "sector"


_TABLE = """
# Therapeutic areas
oncology: cancer, tumour, tumor, oncological, carcinoma, leukaemia, leukemia, lymphoma,
    metastasis, metastatic
infectious diseases: infectious disease, infection, pathogen, antimicrobial, antimicrobial
    resistance, amr, antibiotic, antiviral, antifungal, antibacterial, bacterial infection,
    viral infection, epidemic, pandemic, outbreak, virus, flavivirus, dengue, zika,
    tuberculosis, malaria, hiv, sepsis
neurology: neurological, neurodegenerative, neurodegeneration, alzheimer, parkinson, dementia,
    brain, multiple sclerosis, als, huntington, neuroscience, epilepsy
cardiovascular: cardiovascular disease, heart, cardiac, cardiology, stroke, heart failure,
    hypertension, atherosclerosis
rare diseases: rare disease, orphan disease, orphan drug, erdera
mental health: psychiatric, psychiatry, depression, anxiety, mental disorder
metabolic diseases: diabetes, obesity, metabolic, metabolism
respiratory: lung, asthma, copd, pulmonary
immunology: immune, autoimmune, inflammation, inflammatory, immunoscience, immunotherapy,
    immunotherapeutic
non-communicable diseases: non communicable disease, ncd, chronic disease, chronic condition
healthy ageing: ageing, aging, age related, older people, older adult, elderly, longevity
paediatrics: pediatrics, children, child, young people, adolescent
regenerative medicine: tissue engineering, regeneration, stem cell, bio printing, bioprinting,
    organ replacement
disability: disabilities, independent living, assistive technology
climate and health: climate change, heat wave, exposome, environmental health
palliative care: end of life, quality of life, survivorship, survivor
# Technologies
artificial intelligence: ai, machine learning, deep learning, neural network, foundation model,
    large language model, generative ai, ai based, ai driven
digital twin: virtual human twin, vht, in silico, computational model
biomarkers: biomarker, predictive biomarker, companion diagnostic
diagnostics: diagnostic, diagnosis, in vitro diagnostic, ivd, point of care, point of care
    diagnostic, rapid test, assay, screening
medical imaging: imaging, radiology, mri, ultrasound, ct scan, microscopy
genomics: genome, genomic, sequencing, omics, multi omics, transcriptomics, proteomics,
    functional genomics, crispr, gene editing
monoclonal antibodies: monoclonal antibody, antibody, mab, biologic, antibody based
small molecules: small molecule, drug candidate, drug discovery, medicinal chemistry, lead
    compound
vaccines: vaccine, vaccination, immunisation, immunization, mrna
advanced therapies: advanced therapy, atmp, cell therapy, gene therapy, car t, cell and gene
    therapy, advanced therapy medicinal product
new approach methodologies: nam, nams, organ on chip, organoid, alternative to animal testing,
    animal free, in vitro model, 3r
medical devices: medical device, wearable, implant, mdr
digital health: ehealth, mhealth, health app, telemedicine, telehealth, remote monitoring,
    digital tool, digital solution, digital health technology
health data: electronic health record, ehr, real world data, real world evidence, data sharing,
    interoperability, european health data space, ehds, data space
microbiome: microbiota, gut flora, microbial community
biomanufacturing: bioprocess, bioproduction, fermentation, cell free, cell free protein
    synthesis, protein production, manufacturing of biologics, biologics production
synthetic biology: engineered organism, metabolic engineering
drug delivery: nanomedicine, nanoparticle
clinical trials: clinical trial, clinical study, clinical studies, first in human, phase 1,
    phase 2, clinical validation, clinical investigation
regulatory science: regulatory, market authorisation, marketing authorisation, health
    technology assessment, hta
toxicology: toxicity, safety assessment, adverse drug reaction, pharmacovigilance
robotics: robot, robotic, automation
cybersecurity: cyber security, cyber threat, encryption
quantum: quantum computing, quantum technology
biotechnology: biotech, bio based, bioeconomy, industrial biotechnology, enzyme, enzymes
nutrition: food, diet, dietary, foodome
personalised medicine: personalized medicine, precision medicine, patient stratification,
    personalised approach, personalized approach
health care delivery: health system, healthcare system, care pathway, integrated care, primary
    care, hospital, care provider, health and care
procurement of innovation: public procurement, pre commercial procurement, pcp, ppi,
    procurement
# Sectors
pharma: pharmaceutical, pharmaceutical industry, medicine, therapeutics, therapeutic, drug,
    drugs, treatment
medtech: medical technology, health technology, medical device
agrifood: agriculture, agricultural, farming, livestock, crop, food system
energy: renewable energy, battery, photovoltaic, hydrogen
environment: pollution, biodiversity, circular economy, recycling
space: satellite, earth observation
defence: defense, military
"""


def _parse(table: str) -> tuple[Concept, ...]:
    """Concepts from the table; an indented line continues the line above."""
    logical: list[tuple[str, str]] = []
    kind = "technology"
    for line in table.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            kind = {"# Therapeutic areas": "therapeutic area", "# Sectors": "sector"}.get(
                line.strip(), "technology"
            )
        elif line.startswith(" ") and logical:
            logical[-1] = (logical[-1][0] + " " + line.strip(), logical[-1][1])
        else:
            logical.append((line.strip(), kind))
    concepts = []
    for line, line_kind in logical:
        name, _, rest = line.partition(":")
        phrases = tuple(p.strip() for p in rest.split(",") if p.strip())
        concepts.append(Concept(name.strip(), (name.strip(), *phrases), line_kind))
    return tuple(concepts)


CONCEPTS: tuple[Concept, ...] = _parse(_TABLE)

# How each funding interest a profile may state shows in an opportunity: a type of action,
# a programme, or a word of the title.
FUNDING_TYPES: dict[str, tuple[str, ...]] = {
    "grant": (
        "RIA",
        "IA",
        "CSA",
        "Grant",
        "Grants",
        "Project Grants",
        "Lump Sum Grants",
        "Simple Grants",
        "Collaborative R&D grant",
        "COFUND",
    ),
    "research grant": ("RIA",),
    "innovation grant": ("IA", "EIC", "EIC-ACC"),
    "collaborative research": ("RIA", "IA", "Collaborative R&D grant"),
    "equity": ("EIC", "EIC-ACC", "EIC-EQU"),
    "blended finance": ("EIC", "EIC-ACC", "EIC-EQU"),
    "investment": ("EIC", "EIC-ACC", "EIC-EQU"),
    "eic accelerator": ("EIC", "EIC-ACC"),
    "voucher": ("Voucher",),
    "cascade funding": ("Grants for Financial Support", "cascade"),
    "open call": ("Grants for Financial Support", "cascade"),
    "procurement": ("PCP", "PPI", "Grants for Procurement"),
    "prize": ("Prize",),
    "fellowship": ("MSCA-PF", "MSCA-DN", "MSCA-SE", "Salary co-funding", "fellowship"),
    "mobility": ("MSCA-SE", "Travel grant", "mobility"),
    "coordination": ("CSA",),
    "networking": ("CSA", "Travel grant"),
    "infrastructure": ("INFRA",),
}
FUNDING_ALIASES: dict[str, str] = {
    "grants": "grant",
    "ria": "research grant",
    "ia": "innovation grant",
    "research and innovation action": "research grant",
    "innovation action": "innovation grant",
    "eic": "eic accelerator",
    "accelerator": "eic accelerator",
    "vouchers": "voucher",
    "cascade": "cascade funding",
    "fstp": "cascade funding",
    "open calls": "open call",
    "pcp": "procurement",
    "ppi": "procurement",
    "prizes": "prize",
    "fellowships": "fellowship",
    "msca": "fellowship",
    "talent": "fellowship",
    "travel": "mobility",
    "csa": "coordination",
    "loan": "investment",
    "loans": "investment",
    "venture capital": "investment",
    "investors": "investment",
}

__all__ = ["CONCEPTS", "FUNDING_ALIASES", "FUNDING_TYPES", "Concept"]
