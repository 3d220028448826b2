"""Drug names: a curated list of common drugs (hand-written here), generic-name stems, and FDA UNII names.

    is_drug("lisinopril")        # True: curated list
    is_drug("zafirlukast")       # True: the -lukast stem
    "lisinopril" in unii_words() # the 23k one-word FDA UNII official and brand names (public domain)

The UNII list is built by tools/build_lexicon.py from FDA's UNII_Names.txt (see docs/decisions.md: no
DrugBank-derived data is shipped). The curated list is what the ASR decoder is biased toward by default: it is
small enough that a prefix of it is rarely a prefix of everyday speech.
"""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["COMMON_DRUGS", "is_drug", "unii_words"]

_UNII = Path(__file__).resolve().parent / "data" / "unii-words.txt.gz"

COMMON_DRUGS = frozenset("""acetaminophen tylenol ibuprofen advil motrin naproxen aleve aspirin lasix furosemide metformin insulin
lantus humalog novolog lisinopril losartan amlodipine norvasc atorvastatin lipitor simvastatin rosuvastatin crestor
metoprolol atenolol carvedilol warfarin coumadin eliquis apixaban xarelto rivaroxaban plavix clopidogrel heparin
prednisone prednisolone methylprednisolone medrol dexamethasone hydrocortisone albuterol ventolin proair symbicort
advair flovent spiriva singulair montelukast flonase fluticasone zyrtec cetirizine claritin loratadine benadryl
diphenhydramine omeprazole prilosec pantoprazole protonix nexium famotidine pepcid zantac amoxicillin augmentin
azithromycin zithromax doxycycline keflex cephalexin cipro ciprofloxacin levofloxacin bactrim nitrofurantoin
macrobid clindamycin metronidazole flagyl penicillin vancomycin gabapentin neurontin lyrica pregabalin tramadol
oxycodone percocet hydrocodone norco vicodin morphine fentanyl dilaudid codeine suboxone buprenorphine methadone
naloxone narcan sertraline zoloft fluoxetine prozac citalopram escitalopram lexapro paxil paroxetine wellbutrin
bupropion trazodone xanax alprazolam ativan lorazepam klonopin clonazepam valium diazepam ambien zolpidem
lithium lamotrigine lamictal depakote keppra levetiracetam topiramate topamax synthroid levothyroxine
hydrochlorothiazide hctz spironolactone chlorthalidone jardiance farxiga ozempic trulicity mounjaro victoza januvia
glipizide glyburide meloxicam mobic celebrex celecoxib toradol ketorolac colchicine allopurinol flomax tamsulosin
finasteride viagra sildenafil cialis tadalafil imitrex sumatriptan zofran ondansetron phenergan reglan
metoclopramide miralax colace senna dulcolax imodium loperamide nitroglycerin digoxin amiodarone diltiazem
verapamil hydralazine clonidine entresto potassium magnesium iron vitamin folic b12 calcium epinephrine epipen
humira enbrel methotrexate plaquenil hydroxychloroquine tamoxifen letrozole keytruda
toprol lopressor coreg zestril prinivil cozaar diovan valsartan benicar olmesartan tenormin
glucophage zocor pravastatin pravachol lovastatin ezetimibe zetia amoxil ampicillin cefdinir ceftriaxone
keflex duloxetine cymbalta venlafaxine effexor amitriptyline nortriptyline mirtazapine remeron quetiapine
seroquel aripiprazole abilify risperidone risperdal olanzapine haloperidol buspirone hydroxyzine adderall
methylphenidate ritalin prednisone budesonide ipratropium tiotropium salmeterol formoterol
semaglutide liraglutide dulaglutide tirzepatide sitagliptin empagliflozin dapagliflozin pioglitazone
enoxaparin lovenox dabigatran pradaxa ticagrelor brilinta nifedipine labetalol propranolol bisoprolol
nitrofurantoin oseltamivir tamiflu acyclovir valacyclovir valtrex fluconazole diflucan nystatin mupirocin
bacitracin neosporin triamcinolone mometasone clobetasol hydrocodone oxycontin baclofen cyclobenzaprine
flexeril tizanidine methocarbamol robaxin naproxen diclofenac voltaren indomethacin ketoconazole
terbinafine lamisil estradiol progesterone medroxyprogesterone levonorgestrel norethindrone testosterone
alendronate fosamax denosumab prolia infliximab remicade adalimumab etanercept rituximab sulfasalazine
mesalamine azathioprine tacrolimus cyclosporine mycophenolate donepezil aricept memantine namenda
levodopa carbidopa sinemet ropinirole pramipexole""".split())
_DRUG_SUFFIX = re.compile(r"^[a-z]{3,}(pril|sartan|olol|dipine|vastatin|prazole|tidine|cillin|mycin|cycline|floxacin|"
                          r"conazole|vir|mab|tinib|gliptin|gliflozin|glutide|formin|parin|xaban|semide|thiazide|triptan|"
                          r"setron|azepam|zolam|oxetine|ipramine|triptyline|codone|morphone|olone|asone|terol|tropium|"
                          r"lukast|afil|profen|coxib|dronate|pidem)$")


def is_drug(word: str) -> bool:
    """A common drug name (the curated list) or a one-word name with a generic-name stem (-pril, -olol, ...)."""
    w = word.lower().strip("-")
    return w in COMMON_DRUGS or (len(w) >= 6 and bool(_DRUG_SUFFIX.match(w)))


@lru_cache(maxsize=1)
def unii_words() -> frozenset[str]:
    """The shipped one-word FDA UNII names (lower case); empty if the data file is missing from a build."""
    try:
        with gzip.open(_UNII, "rt", encoding="utf-8") as f:
            return frozenset(w for w in (ln.strip() for ln in f) if w)
    except OSError:
        return frozenset()
