"""The guidance pages' content: what a second opinion in China can and cannot be.

Written in our own words from the public article the service is built on
(shared/reference/second-opinion-article.txt). Kept as data, beside the views, so the
guidance page, the case page's caveats and the tests read the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import MedicalArea


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    may_involve: str
    essentials: str


@dataclass(frozen=True)
class Step:
    title: str
    text: str


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str


MAY_SUIT = [
    "You have recently been told you have a serious condition and want to understand it better.",
    "You are weighing up an operation, cancer treatment, fertility treatment or other "
    "complex care.",
    "You are waiting to see a specialist and want your records ready in good time.",
    "You wonder whether the plan you have been offered is the only way forward.",
    "You are curious about care in China but are not ready to travel.",
    "You are a family member or carer helping someone put their medical information in order.",
]

MAY_NOT_SUIT = [
    "The patient is medically unstable or needs emergency treatment: call 999 or use "
    "NHS 111 instead.",
    "The essential diagnostic records (for example the scan reports or the pathology) "
    "are missing and cannot be obtained: a review without them says very little.",
    "You are looking for guaranteed access to a particular therapy, doctor or hospital "
    "without a clinical review first: nobody can promise that, and we do not.",
]

AREAS = [
    Area(
        MedicalArea.CANCER,
        "Cancer and oncology",
        "A look at the pathology, scans, staging, any genetic tests, the treatment so far "
        "and the plan on the table. It may lead to a discussion by a team of specialists "
        "(a multidisciplinary review) or to questions about newer kinds of treatment. No "
        "treatment can be assumed suitable until a specialist has assessed the patient.",
        "The pathology report, the imaging reports and the treatment history are usually "
        "essential.",
    ),
    Area(
        MedicalArea.RARE_DISEASE,
        "Rare disease and complex diagnosis",
        "A careful read of a long medical history, genetic reports, laboratory results "
        "and the opinions already given, to sharpen the questions and see whether a "
        "further review is worth it.",
        "Genetic test results and the long-term medical history are usually central.",
    ),
    Area(
        MedicalArea.FERTILITY,
        "Fertility and reproductive medicine",
        "Another view after several unsuccessful IVF cycles, repeated miscarriage, male "
        "infertility or questions about reproductive genetics, before deciding whether to "
        "carry on with treatment.",
        "The details of previous IVF cycles and reproductive test results are usually important.",
    ),
    Area(
        MedicalArea.EYE_CARE,
        "Eye care",
        "A review for cataract, glaucoma, retinal disease or other eye conditions, "
        "especially when timing, how fast it is changing, or the choice of treatment is "
        "unclear.",
        "Recent eye clinic letters, scan and test results, and the treatment so far.",
    ),
    Area(
        MedicalArea.REHABILITATION,
        "Rehabilitation and chronic conditions",
        "Another opinion on a rehabilitation plan, recovery after an operation or after "
        "cancer, long-lasting pain, or joined-up support for a long-term condition.",
        "Discharge summaries, therapy reports and the current medicines.",
    ),
]

RECORDS = [
    "letters giving the diagnosis, and clinic letters",
    "referral letters and hospital discharge summaries",
    "blood test results and other laboratory reports",
    "imaging reports — CT, MRI, PET-CT, ultrasound or X-ray",
    "pathology reports and biopsy results",
    "genetic or molecular test results, where there are any",
    "the medicines the patient takes now, and any allergies",
    "the treatment the patient has had so far",
    "the questions you want answered",
]

STEPS = [
    Step(
        "Put your question into words",
        "Write down what you actually want to know. For example: is my treatment plan "
        "reasonable? Are there other approaches worth considering? Do I need more tests? "
        "Is it worth looking at China for my case?",
    ),
    Step(
        "Gather your records",
        "Collect the most recent and most relevant NHS or private records: the diagnosis, "
        "test results, scan reports and what treatment there has been.",
    ),
    Step(
        "Prepare a short summary",
        "A brief, factual account of the timeline, the current concern and what the "
        "patient hopes for helps reviewers find their way. Our coordinators write it with "
        "you, in English and Chinese.",
    ),
    Step(
        "Ask us to prepare the case for review",
        "We organise the records and look at whether a medical direction in China may be "
        "relevant — before anyone thinks about travelling.",
    ),
    Step(
        "Understand the limits",
        "A second opinion gives another point of view. It does not guarantee eligibility, "
        "access to treatment or any outcome, and clinical decisions stay with qualified "
        "doctors.",
    ),
    Step(
        "Decide whether to go further",
        "If the review suggests a route in China may be worth exploring, you can decide "
        "what, if anything, to do next — see the options below.",
    ),
]

NEXT_STEPS = [
    ("More records", "gathering further tests or reports the reviewers asked for"),
    ("Hospital communication", "passing questions and answers between you and the hospital"),
    ("Appointment planning", "arranging remote or in-person appointments, if wanted"),
    ("Translation", "translating letters and reports, and arranging interpreters"),
    (
        "Travel feasibility",
        "looking at whether travel is realistic and safe for the patient, before anything "
        "is booked",
    ),
    (
        "Documents for afterwards",
        "planning the letters and records the patient brings home, so their UK clinicians "
        "can carry on their care",
    ),
]

HIGH_RISK_TREATMENTS = [
    "CAR-T cell therapy",
    "stem cell therapy",
    "advanced medicines, including ones not yet approved in the UK",
    "medical devices available only through special access",
]
HIGH_RISK_TEXT = (
    "Whether a patient could receive one of these depends on the diagnosis and the exact "
    "indication, a clinical assessment, the hospital's own policy, the treating doctor's "
    "decision, the institution's approval and the regulations that apply. None of them "
    "can be promised in advance, by us or by anyone else."
)
# Areas where the article's higher-risk caveats always apply to a case.
HIGH_RISK_AREAS = frozenset({MedicalArea.CANCER, MedicalArea.RARE_DISEASE})

FAQ = [
    Answer(
        "Can I get a second opinion from China without travelling?",
        "Often, yes: the first step is preparing your case for a remote review. Whether a "
        "team can say anything useful depends on how complete and clear the records are.",
    ),
    Answer(
        "Does a second opinion mean I should change my treatment?",
        "No. It is information to help you decide. Talk about any change to treatment "
        "with the qualified professionals who look after you.",
    ),
    Answer(
        "Is it useful for people with cancer?",
        "It can be, particularly when the pathology, scans, genetic tests and treatment "
        "history are available to review. Whether any treatment would suit the patient "
        "is for a specialist to assess.",
    ),
    Answer(
        "What if the team in China disagrees with my UK plan?",
        "Doctors can read the same information differently. Take time to discuss the new "
        "opinion with your own clinicians, and avoid rushed decisions.",
    ),
    Answer(
        "Can medChina Intake choose a treatment for me?",
        "No. We do not diagnose, prescribe or treat. We organise records, look at which "
        "medical directions in China may be relevant, and handle the non-clinical "
        "arrangements.",
    ),
    Answer(
        "Are results guaranteed?",
        "No. A second opinion cannot promise a different diagnosis, access to a treatment, "
        "a cure or any outcome. It helps you make a better-informed decision.",
    ),
]
