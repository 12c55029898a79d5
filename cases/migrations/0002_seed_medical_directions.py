"""Seed the China medical directions and the records each one needs.

Coordinators edit these in the admin afterwards; this runs once.
"""

from django.db import migrations

HIGH_RISK_CAUTION = (
    "Eligibility depends on the diagnosis, a clinical assessment, hospital policy and "
    "regulation. Many patients are not eligible; nothing here is an offer of treatment."
)

DIRECTIONS = [
    # area, English, Chinese, helps with, cautions, high risk, essential, in checklist
    (
        "cancer",
        "Medical oncology second opinion",
        "肿瘤内科第二诊疗意见",
        "A review of the diagnosis, staging and systemic treatment options.",
        "",
        False,
        ["pathology", "imaging_report", "treatment_history", "diagnosis_letter"],
        True,
    ),
    (
        "cancer",
        "Surgical oncology review",
        "肿瘤外科评估",
        "Whether surgery may be an option, and its timing.",
        "",
        False,
        ["pathology", "imaging_report", "imaging_study"],
        False,
    ),
    (
        "cancer",
        "Radiotherapy review",
        "放射治疗评估",
        "Radiotherapy options, including techniques not offered locally.",
        "",
        False,
        ["pathology", "imaging_report", "treatment_history"],
        False,
    ),
    (
        "cancer",
        "CAR-T cell therapy",
        "CAR-T细胞治疗",
        "Cell therapy for some blood cancers after other treatments.",
        HIGH_RISK_CAUTION,
        True,
        ["pathology", "treatment_history", "lab", "genetic"],
        False,
    ),
    (
        "rare_disease",
        "Rare disease and complex diagnosis",
        "罕见病与疑难病诊断",
        "A fresh look at an unclear or rare diagnosis by specialists who see it more often.",
        "",
        False,
        ["genetic", "treatment_history", "diagnosis_letter", "lab"],
        True,
    ),
    (
        "rare_disease",
        "Advanced and special-access medicines",
        "特殊准入药品",
        "Medicines approved in China but not available in the UK.",
        HIGH_RISK_CAUTION,
        True,
        ["genetic", "diagnosis_letter", "medications"],
        False,
    ),
    (
        "fertility",
        "Assisted reproduction (IVF)",
        "辅助生殖（试管婴儿）",
        "Review of previous IVF cycles and further investigations.",
        "",
        False,
        ["ivf_cycle", "lab", "diagnosis_letter"],
        True,
    ),
    (
        "eye_care",
        "Ophthalmology",
        "眼科",
        "Second opinion on eye conditions and surgical options.",
        "",
        False,
        ["diagnosis_letter", "imaging_report"],
        True,
    ),
    (
        "eye_care",
        "Special-access eye devices",
        "特殊准入眼科器械",
        "Devices or implants not yet available in the UK.",
        HIGH_RISK_CAUTION,
        True,
        ["diagnosis_letter", "imaging_report", "treatment_history"],
        False,
    ),
    (
        "rehabilitation",
        "Rehabilitation medicine",
        "康复医学",
        "Rehabilitation programmes for long-term and neurological conditions.",
        "",
        False,
        ["discharge", "treatment_history", "medications"],
        True,
    ),
    (
        "rehabilitation",
        "Stem-cell therapy",
        "干细胞治疗",
        "Only within regulated clinical research.",
        HIGH_RISK_CAUTION,
        True,
        ["diagnosis_letter", "treatment_history", "imaging_report"],
        False,
    ),
    (
        "other",
        "General medical review",
        "综合医学评估",
        "A general second opinion where no other direction fits.",
        "",
        False,
        ["diagnosis_letter", "treatment_history", "medications"],
        True,
    ),
]


def seed(apps, schema_editor):
    MedicalDirection = apps.get_model("cases", "MedicalDirection")
    for area, en, zh, helps, cautions, high_risk, essential, checklist in DIRECTIONS:
        MedicalDirection.objects.get_or_create(
            area=area,
            name_en=en,
            defaults={
                "name_zh": zh,
                "helps_with": helps,
                "cautions": cautions,
                "high_risk": high_risk,
                "essential_categories": essential,
                "in_area_checklist": checklist,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
