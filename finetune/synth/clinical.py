"""Clinical encounters: one sampled case → a two-speaker transcript → the note for any clinical template.

Every fact in a note is said in the transcript (numbers possibly as words); facts left out of the conversation are
"" / [] in the note, so the model learns to leave sections empty rather than invent them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .speech import SMALL_TALK_CLINICAL, Speaker, num_words, say_bp, say_number

__all__ = ["ClinicalCase", "sample_case", "render_transcript", "note_for", "TEMPLATES"]

# (complaint, duration unit, associated symptoms, pertinent negatives, exam finding, diagnosis, specialty)
PROBLEMS = [
    ("chest pain", "days", ["shortness of breath on exertion", "sweating"], ["nausea", "leg swelling"],
     "regular rate and rhythm, no murmurs", "atypical chest pain", "cardiology"),
    ("cough", "weeks", ["green sputum", "fevers at night"], ["chest pain", "coughing up blood"],
     "crackles at the right lung base", "community-acquired pneumonia", "primary care"),
    ("headaches", "weeks", ["sensitivity to light", "nausea"], ["vision loss", "weakness"],
     "normal neurological exam", "migraine without aura", "neurology"),
    ("low back pain", "weeks", ["pain radiating down the left leg"], ["bladder problems", "numbness in the groin"],
     "positive straight leg raise on the left", "lumbar radiculopathy", "orthopedics"),
    ("knee pain", "months", ["swelling after walking", "stiffness in the morning"], ["locking", "fever"],
     "medial joint line tenderness of the right knee", "osteoarthritis of the right knee", "orthopedics"),
    ("abdominal pain", "days", ["bloating", "loose stools"], ["blood in the stool", "vomiting"],
     "mild tenderness in the lower abdomen", "gastroenteritis", "gastroenterology"),
    ("high blood sugars", "months", ["increased thirst", "frequent urination"], ["blurred vision", "foot ulcers"],
     "decreased sensation in both feet", "type 2 diabetes, poorly controlled", "endocrinology"),
    ("palpitations", "weeks", ["lightheadedness"], ["fainting", "chest pain"],
     "irregularly irregular rhythm", "atrial fibrillation", "cardiology"),
    ("rash", "days", ["itching"], ["fever", "mouth sores"],
     "erythematous scaly patches on both elbows", "psoriasis", "dermatology"),
    ("feeling low", "months", ["poor sleep", "low energy"], ["thoughts of self-harm"],
     "flat affect, normal speech", "major depressive disorder", "psychiatry"),
    ("sore throat", "days", ["fever", "painful swallowing"], ["cough", "drooling"],
     "tonsillar exudate with tender neck nodes", "streptococcal pharyngitis", "pediatrics"),
    ("ear pain", "days", ["trouble hearing on that side"], ["discharge", "dizziness"],
     "bulging red left tympanic membrane", "acute otitis media", "pediatrics"),
    ("wheezing", "days", ["cough at night"], ["fever", "chest pain"],
     "expiratory wheezes bilaterally", "asthma exacerbation", "pulmonology"),
    ("burning with urination", "days", ["urinary frequency"], ["flank pain", "fever"],
     "suprapubic tenderness", "urinary tract infection", "primary care"),
]
MEDS = [("metformin", 500, "mg", "twice daily"), ("lisinopril", 10, "mg", "once daily"),
        ("atorvastatin", 40, "mg", "at night"), ("amlodipine", 5, "mg", "once daily"),
        ("metoprolol", 25, "mg", "twice daily"), ("levothyroxine", 75, "mcg", "every morning"),
        ("omeprazole", 20, "mg", "once daily"), ("sertraline", 50, "mg", "once daily"),
        ("albuterol", 2, "puffs", "as needed"), ("apixaban", 5, "mg", "twice daily"),
        ("losartan", 50, "mg", "once daily"), ("gabapentin", 300, "mg", "three times a day"),
        ("insulin glargine", 20, "units", "at bedtime"), ("ibuprofen", 400, "mg", "every 6 hours as needed")]
NEW_MEDS = {"atypical chest pain": ("aspirin", 81, "mg", "once daily"),
            "community-acquired pneumonia": ("amoxicillin", 1000, "mg", "three times a day for 7 days"),
            "migraine without aura": ("sumatriptan", 50, "mg", "at onset of headache"),
            "lumbar radiculopathy": ("naproxen", 500, "mg", "twice daily with food"),
            "osteoarthritis of the right knee": ("diclofenac gel", 4, "grams", "four times a day"),
            "gastroenteritis": ("ondansetron", 4, "mg", "every 8 hours as needed"),
            "type 2 diabetes, poorly controlled": ("empagliflozin", 10, "mg", "once daily"),
            "atrial fibrillation": ("diltiazem", 120, "mg", "once daily"),
            "psoriasis": ("clobetasol cream", 0.05, "%", "twice daily"),
            "major depressive disorder": ("escitalopram", 10, "mg", "once daily"),
            "streptococcal pharyngitis": ("amoxicillin", 500, "mg", "twice daily for 10 days"),
            "acute otitis media": ("amoxicillin", 875, "mg", "twice daily for 10 days"),
            "asthma exacerbation": ("prednisone", 40, "mg", "daily for 5 days"),
            "urinary tract infection": ("nitrofurantoin", 100, "mg", "twice daily for 5 days")}
PMH = ["hypertension", "type 2 diabetes", "high cholesterol", "hypothyroidism", "asthma", "GERD", "depression",
       "atrial fibrillation", "osteoarthritis", "chronic kidney disease stage 3"]
ALLERGIES = [("penicillin", "hives"), ("sulfa drugs", "rash"), ("codeine", "nausea"), ("latex", "itching")]
LABS = [("hemoglobin A1c", (6.5, 11.0), "%"), ("creatinine", (0.7, 1.9), "mg/dL"), ("potassium", (3.3, 5.4), ""),
        ("white count", (4.0, 17.0), "thousand"), ("hemoglobin", (9.0, 15.5), "g/dL"), ("TSH", (0.4, 8.0), "")]
TESTS = ["a chest x-ray", "an ECG", "a basic metabolic panel", "a CBC", "an MRI of the lumbar spine",
         "an echocardiogram", "a urine culture", "a lipid panel", "a rapid strep test"]
NAMES_F = ["Maria", "Linda", "Aisha", "Chen", "Grace", "Sofia", "Emily", "Fatima", "Rosa", "Hannah"]
NAMES_M = ["James", "Robert", "Ahmed", "Luis", "Daniel", "Kenji", "Michael", "Omar", "David", "Samuel"]
FAMILY = ["mother had breast cancer", "father had a heart attack at 60", "sister has type 2 diabetes",
          "brother has asthma"]
OCCUPATIONS = ["a teacher", "a truck driver", "a nurse", "retired", "an accountant", "a student", "a chef"]


@dataclass
class ClinicalCase:
    name: str
    age: int
    sex: str
    problem: tuple
    duration: int
    severity: int | None
    meds: list
    pmh: list
    allergy: tuple | None
    smoker: str | None
    alcohol: str | None
    occupation: str | None
    family: str | None
    vitals: dict
    labs: list
    tests: list
    new_med: tuple | None
    follow_weeks: int | None
    referral: str | None
    setting: str                      # "clinic" | "discharge"
    los_days: int = 0
    said_negs: list = field(default_factory=list)


def sample_case(rng: random.Random, setting: str = "clinic") -> ClinicalCase:
    p = rng.choice(PROBLEMS)
    sex = rng.choice(["female", "male"])
    age = rng.choice([rng.randint(4, 17), rng.randint(18, 92), rng.randint(30, 80)]) if p[6] != "pediatrics" \
        else rng.randint(2, 15)
    vit = {}
    if rng.random() < 0.85:
        vit["bp"] = (rng.randint(98, 178), rng.randint(58, 104))
    if rng.random() < 0.7:
        vit["hr"] = rng.randint(52, 124)
    if rng.random() < 0.55:
        vit["temp"] = round(rng.uniform(36.1, 39.4), 1)
    if rng.random() < 0.5:
        vit["spo2"] = rng.randint(89, 100)
    if rng.random() < 0.3:
        vit["weight"] = rng.randint(18 if age < 16 else 48, 60 if age < 16 else 130)
    labs = [(n, round(rng.uniform(*r), 1), u) for n, r, u in rng.sample(LABS, rng.choice([0, 0, 1, 2]))]
    return ClinicalCase(
        name=rng.choice(NAMES_F if sex == "female" else NAMES_M), age=age, sex=sex, problem=p,
        duration=rng.randint(2, 12 if p[1] != "days" else 10),
        severity=rng.randint(3, 9) if rng.random() < 0.5 else None,
        meds=rng.sample(MEDS, rng.choice([0, 1, 1, 2, 2, 3])) if age >= 18 else [],
        pmh=rng.sample(PMH, rng.choice([0, 1, 2])) if age >= 18 else [],
        allergy=rng.choice(ALLERGIES) if rng.random() < 0.35 else None,
        smoker=rng.choice([None, "never smoked", "smokes half a pack a day", "quit smoking 10 years ago"])
        if age >= 18 else None,
        alcohol=rng.choice([None, None, "drinks socially", "no alcohol"]) if age >= 18 else None,
        occupation=rng.choice([None, None, *OCCUPATIONS]) if age >= 18 else None,
        family=rng.choice([None, None, *FAMILY]), vitals=vit, labs=labs,
        tests=rng.sample(TESTS, rng.choice([0, 1, 1, 2])),
        new_med=NEW_MEDS[p[5]] if rng.random() < 0.75 else None,
        follow_weeks=rng.choice([None, 1, 2, 2, 4, 6, 12]),
        referral=p[6] if rng.random() < 0.3 and p[6] not in ("primary care", "pediatrics") else None,
        setting=setting, los_days=rng.randint(2, 9) if setting == "discharge" else 0,
        said_negs=rng.sample(p[3], rng.randint(1, len(p[3]))))


def _med_text(m) -> str:
    return f"{m[0]} {m[1]} {m[2]} {m[3]}"


def _said_med(m, rng) -> str:
    dose = say_number(m[1], rng, 0.3)
    return f"{m[0]} {dose} {'milligrams' if m[2] == 'mg' and rng.random() < 0.5 else m[2]} {m[3]}"


def render_transcript(c: ClinicalCase, rng: random.Random) -> str:
    """Two speakers (labels vary, sometimes none, as undiarised ASR would give), one line per turn."""
    style = rng.random()
    labels = ("doctor", "patient") if style < 0.6 else (("Speaker 1", "Speaker 2") if style < 0.8 else (None, None))
    lower = rng.random() < 0.4
    dis, asr = rng.choice([0.0, 0.1, 0.25]), rng.choice([0.0, 0.05, 0.15])
    D = Speaker(labels[0], rng, dis * 0.5, asr, lower)
    P = Speaker(labels[1], rng, dis, asr, lower)
    cc, unit = c.problem[0], c.problem[1]
    lines: list[str] = []
    if rng.random() < 0.4:
        q, a = rng.choice(SMALL_TALK_CLINICAL)
        lines += [D.line(q), P.line(a)]
    if c.setting == "discharge":
        lines.append(D.line(f"Good morning {c.name}. You came in {num_words(c.los_days)} days ago with {cc}, "
                             f"and you're doing well enough to go home today."))
    else:
        lines.append(D.line(rng.choice([f"Hi {c.name}, what brings you in today?", "So what's going on?",
                                        f"Good to see you {c.name}. How can I help?"])))
    dur = f"{say_number(c.duration, rng, 0.6)} {unit}"
    if c.age < 16:   # a parent speaks for a child
        kid = "daughter" if c.sex == "female" else "son"
        lines.append(P.line(f"My {kid} is {say_number(c.age, rng, 0.3)} and has had {cc} for about {dur}."))
    else:
        lines.append(P.line(f"I'm {say_number(c.age, rng, 0.3)} and I've had {cc} for about {dur}."))
    if c.severity is not None:
        lines += [D.line("How bad is it on a scale of one to ten?"), P.line(f"Maybe a {say_number(c.severity, rng)}.")]
    assoc = c.problem[2]
    lines += [D.line("Anything else going on with it?"), P.line(f"Yes, I've noticed {' and '.join(assoc)}.")]
    for n in c.said_negs:
        lines += [D.line(f"Any {n}?"), P.line(rng.choice(["No.", "No, none of that.", "Nope."]))]
    if c.pmh:
        lines += [D.line("Any medical problems I should know about?"), P.line(f"I have {' and '.join(c.pmh)}.")]
    if c.meds:
        lines += [D.line("What medications are you taking?"),
                  P.line("I take " + ", and ".join(_said_med(m, rng) for m in c.meds) + ".")]
    if c.allergy:
        lines += [D.line("Any allergies?"), P.line(f"{c.allergy[0].capitalize()}, I get {c.allergy[1]}.")]
    elif rng.random() < 0.5:
        lines += [D.line("Any allergies to medicines?"), P.line("No allergies.")]
    if c.smoker or c.alcohol or c.occupation:
        parts = [x for x in (f"I'm {c.occupation}" if c.occupation else None,
                             f"I {c.smoker.replace('smokes', 'smoke')}" if c.smoker else None,
                             f"I {c.alcohol.replace('drinks', 'drink')}" if c.alcohol else None) if x]
        lines += [D.line("Tell me a bit about work and habits."), P.line(", and ".join(parts) + ".")]
    if c.family:
        lines += [D.line("Anything in the family?"), P.line(f"My {c.family}.")]
    if rng.random() < 0.3:
        q, a = rng.choice(SMALL_TALK_CLINICAL)
        lines += [P.line(a), D.line("Ha, okay.")]
    v = c.vitals
    if v:
        parts = []
        if "bp" in v:
            parts.append(f"your blood pressure is {say_bp(*v['bp'], rng)}")
        if "hr" in v:
            parts.append(f"heart rate {say_number(v['hr'], rng)}")
        if "temp" in v:
            parts.append(f"temperature {say_number(v['temp'], rng)}")
        if "spo2" in v:
            parts.append(f"oxygen {say_number(v['spo2'], rng)} percent")
        if "weight" in v:
            parts.append(f"weight {say_number(v['weight'], rng)} {rng.choice(['kilograms', 'kg'])}")
        lines.append(D.line("Okay, so today " + ", ".join(parts) + "."))
    lines.append(D.line(f"On exam I see {c.problem[4]}."))
    for n, val, u in c.labs:
        lines.append(D.line(f"Your {n} came back at {say_number(val, rng, 0.25)}{(' ' + u) if u else ''}."))
    lines.append(D.line(f"I think this is {c.problem[5]}."))
    if c.new_med:
        m = c.new_med
        lines.append(D.line(f"I'm going to start you on {m[0]} {say_number(m[1], rng, 0.3)} {m[2]} {m[3]}."))
    for t in c.tests:
        lines.append(D.line(f"I'd also like to get {t}."))
    if c.referral:
        lines.append(D.line(f"I'm going to refer you to {c.referral}."))
    warn = _warnings(c)
    if warn:
        lines.append(D.line(f"If you get {' or '.join(warn)}, come back right away."))
    if c.follow_weeks:
        lines.append(D.line(f"Let's see you back in {say_number(c.follow_weeks, rng, 0.5)} "
                            f"week{'s' if c.follow_weeks > 1 else ''}."))
    lines.append(P.line(rng.choice(["Okay, thank you.", "Sounds good, thanks doctor.", "Alright."])))
    return "\n".join(lines)


def _warnings(c: ClinicalCase) -> list[str]:
    return [n for n in c.problem[3] if n not in c.said_negs][:1] or ([c.problem[3][0]] if c.setting == "discharge" else [])


def _subjective(c: ClinicalCase) -> str:
    s = [f"{c.age}-year-old {c.sex} with {c.problem[0]} for {c.duration} {c.problem[1]}"
         + (f", severity {c.severity}/10" if c.severity is not None else "") + "."]
    s.append(f"Reports {' and '.join(c.problem[2])}.")
    s.append(f"Denies {' and '.join(c.said_negs)}.")
    if c.pmh:
        s.append(f"History of {' and '.join(c.pmh)}.")
    if c.meds:
        s.append("Medications: " + "; ".join(_med_text(m) for m in c.meds) + ".")
    return " ".join(s)


def _vitals(c: ClinicalCase) -> list[str]:
    v, out = c.vitals, []
    if "bp" in v:
        out.append(f"BP {v['bp'][0]}/{v['bp'][1]}")
    if "hr" in v:
        out.append(f"HR {v['hr']}")
    if "temp" in v:
        out.append(f"Temp {v['temp']} C")
    if "spo2" in v:
        out.append(f"SpO2 {v['spo2']}%")
    if "weight" in v:
        out.append(f"Weight {v['weight']} kg")
    return out


def _labs(c: ClinicalCase) -> str:
    return "; ".join(f"{n} {v}{(' ' + u) if u else ''}" for n, v, u in c.labs)


def _plan(c: ClinicalCase) -> list[str]:
    out = []
    if c.new_med:
        out.append("Start " + _med_text(c.new_med) + ".")
    out += [f"Order {t}." for t in c.tests]
    if c.referral:
        out.append(f"Refer to {c.referral}.")
    w = _warnings(c)
    if w:
        out.append(f"Return if {' or '.join(w)}.")
    if c.follow_weeks:
        out.append(f"Follow up in {c.follow_weeks} week{'s' if c.follow_weeks > 1 else ''}.")
    return out


def _objective(c: ClinicalCase) -> str:
    parts = []
    if c.vitals:
        parts.append(", ".join(_vitals(c)) + ".")
    parts.append(f"Exam: {c.problem[4]}.")
    if c.labs:
        parts.append(f"Labs: {_labs(c)}.")
    return " ".join(parts)


def _social(c):
    return ". ".join(x[0].upper() + x[1:] for x in (f"works as {c.occupation}" if c.occupation and c.occupation != "retired"
                     else c.occupation, c.smoker, c.alcohol) if x) + ("." if (c.occupation or c.smoker or c.alcohol) else "")


def note_for(template_id: str, c: ClinicalCase) -> dict:
    dx = c.problem[5]
    if template_id == "soap":
        return {"subjective": _subjective(c), "objective": _objective(c), "assessment": dx[0].upper() + dx[1:] + ".",
                "plan": _plan(c)}
    if template_id == "history_physical":
        return {"chief_complaint": f"{c.problem[0].capitalize()} for {c.duration} {c.problem[1]}.",
                "history_of_present_illness": _subjective(c).split(" History of")[0].split(" Medications:")[0],
                "past_medical_history": [p for p in c.pmh], "medications": [_med_text(m) for m in c.meds],
                "allergies": [f"{c.allergy[0]} ({c.allergy[1]})"] if c.allergy else [],
                "social_history": _social(c), "family_history": (c.family[0].upper() + c.family[1:] + ".") if c.family else "",
                "review_of_systems": [f"Positive for {a}" for a in c.problem[2]] + [f"Negative for {n}" for n in c.said_negs],
                "physical_exam": _vitals(c) + [c.problem[4][0].upper() + c.problem[4][1:]],
                "results": _labs(c) + ("." if c.labs else ""),
                "assessment_and_plan": dx[0].upper() + dx[1:] + ". " + " ".join(_plan(c))}
    if template_id == "progress_note":
        return {"interval_history": _subjective(c), "current_status": _objective(c),
                "assessment": [dx[0].upper() + dx[1:]] + [p for p in c.pmh], "plan": _plan(c)}
    if template_id == "discharge_summary":
        meds = ([_med_text(c.new_med)] if c.new_med else []) + [_med_text(m) for m in c.meds]
        return {"admission_reason": f"{c.problem[0].capitalize()} for {c.duration} {c.problem[1]}.",
                "hospital_course": f"Admitted {c.los_days} days ago. " + _objective(c),
                "discharge_diagnoses": [dx[0].upper() + dx[1:]] + list(c.pmh), "discharge_medications": meds,
                "follow_up": [p for p in _plan(c) if not p.startswith("Start ")],
                "condition_at_discharge": "Well enough to go home."}
    if template_id == "patient_instructions":
        todo = [p for p in _plan(c) if not p.startswith("Return if") and not p.startswith("Follow up")]
        return {"what_we_found": f"You have {dx}." + (f" Your blood pressure was {c.vitals['bp'][0]}/{c.vitals['bp'][1]}."
                                                      if "bp" in c.vitals else ""),
                "what_to_do": todo,
                "next_visit": (f"Come back in {c.follow_weeks} week{'s' if c.follow_weeks > 1 else ''}."
                               if c.follow_weeks else ""),
                "warning_signs": [w[0].upper() + w[1:] for w in _warnings(c)]}
    if template_id == "referral_letter":
        return {"reason_for_referral": (f"{dx[0].upper() + dx[1:]}; referred to {c.referral}." if c.referral
                                        else f"{dx[0].upper() + dx[1:]}."),
                "history": _subjective(c), "findings": _objective(c),
                "current_medications": [_med_text(m) for m in c.meds],
                "treatment_so_far": ("Started " + _med_text(c.new_med) + ".") if c.new_med else ""}
    raise KeyError(template_id)


TEMPLATES = ("soap", "history_physical", "progress_note", "discharge_summary", "patient_instructions",
             "referral_letter")
