"""Directions as careful data: a caution per direction to the seed's standard, in English
and Chinese, the correct meaning of "special access", and words that tie a narrow
direction (CAR-T) to the diagnoses it is for.

Only rows still holding the seed's text are changed: a manager's own edits are kept.
"""

from django.db import migrations

OLD_CAUTION = (
    "Eligibility depends on the diagnosis, a clinical assessment, hospital policy and "
    "regulation. Many patients are not eligible; nothing here is an offer of treatment."
)

STANDARD = (
    "Whether this is possible depends on the diagnosis and the indication, a clinical "
    "assessment, the hospital's policy, the treating doctor's decision, institutional "
    "(ethics) approval and the regulations that apply. Nothing here is an offer of "
    "treatment or a promise of eligibility."
)
STANDARD_ZH = (
    "能否进行取决于诊断和适应症、临床评估、医院政策、主治医生的决定、机构（伦理）审批以及"
    "适用的法规。此处内容并非治疗提议，也不保证符合条件。"
)

# name_en: (helps_with or None to keep, helps_with_zh, caution, caution_zh, keywords)
DIRECTIONS = {
    "Medical oncology second opinion": (
        None,
        "对诊断、分期和全身治疗方案的审阅。",
        "A second opinion is based on the records sent; it does not replace the patient's "
        "UK oncology team, and any change to treatment is decided with them. " + STANDARD,
        "第二诊疗意见基于所提供的病历资料，不能取代患者在英国的肿瘤治疗团队；任何治疗调整都应"
        "与他们商定。" + STANDARD_ZH,
        "",
    ),
    "Surgical oncology review": (
        None,
        "评估手术是否可能以及手术时机。",
        "Whether surgery is possible is decided only after the surgeons' own assessment, "
        "usually in person and with up-to-date imaging. " + STANDARD,
        "能否手术只能在外科医生亲自评估（通常需面诊并有最新影像资料）后决定。" + STANDARD_ZH,
        "",
    ),
    "Radiotherapy review": (
        None,
        "放射治疗方案，包括当地未提供的技术。",
        "The doses and areas of any earlier radiotherapy must be known; whether more "
        "radiotherapy is possible is for the radiation oncologists to assess. " + STANDARD,
        "需要了解既往放疗的剂量和部位；能否再次放疗由放疗科医生评估后决定。" + STANDARD_ZH,
        "",
    ),
    "CAR-T cell therapy": (
        None,
        "部分血液肿瘤在其他治疗后的细胞治疗。",
        "CAR-T cell therapy is approved only for particular blood cancers (some lymphomas, "
        "leukaemias and myeloma), usually after other treatments have not worked; outside "
        "its approved indications it is given only within a registered clinical trial. It "
        "can cause serious side effects (cytokine release syndrome, effects on the nervous "
        "system, infections) that need close monitoring in a specialist centre, and patients "
        "are usually asked to stay near the centre for several weeks after the infusion. "
        + STANDARD,
        "CAR-T细胞治疗仅获批用于特定血液肿瘤（部分淋巴瘤、白血病和骨髓瘤），通常是在其他治疗"
        "无效之后；超出获批适应症时，只能在已注册的临床试验中进行。它可能引起严重副作用（细胞"
        "因子释放综合征、神经系统毒性、感染），需要在专科中心密切监测；输注后患者通常需在治疗"
        "中心附近停留数周。" + STANDARD_ZH,
        "lymphoma, leukaemia, leukemia, myeloma, b-cell, dlbcl",
    ),
    "Rare disease and complex diagnosis": (
        None,
        "由更常接触此类疾病的专家重新审视不明确或罕见的诊断。",
        "A review may suggest further tests or a possible diagnosis but may not reach a "
        "definite one; genetic tests done elsewhere may need to be repeated. " + STANDARD,
        "审阅可能提出进一步检查或可能的诊断，但不一定能得出明确诊断；在其他地方做过的基因检测"
        "可能需要重做。" + STANDARD_ZH,
        "",
    ),
    "Advanced and special-access medicines": (
        "Whether a medicine that is not generally approved for this use may be obtained "
        "for one patient through a regulated special-access route — for example the Hainan "
        "Boao Lecheng pilot zone, where some medicines approved abroad may be used with "
        "approval before they are approved in China.",
        "某种未在常规范围内获批用于此用途的药品，能否通过受监管的特殊准入途径为个别患者获得——"
        "例如海南博鳌乐城先行区，部分境外已上市药品在国内获批前经批准后可在此使用。",
        "Special access is decided case by case: it needs a doctor's request, a documented "
        "clinical need, the approval of the institution and the regulator, and the patient "
        "usually pays in full. Many requests are refused. " + STANDARD,
        "特殊准入需逐例办理：需要医生申请、有记录的临床需要、医疗机构及监管部门批准，患者通常"
        "需全额自费。许多申请不会获批。" + STANDARD_ZH,
        "",
    ),
    "Assisted reproduction (IVF)": (
        None,
        "审阅既往试管婴儿周期并建议进一步检查。",
        "Chinese regulations limit who may receive assisted reproduction and which "
        "procedures are allowed (surrogacy is not permitted); clinics ask for marriage and "
        "identity documents. " + STANDARD,
        "中国法规限制了可以接受辅助生殖的人群和可以进行的技术（不允许代孕）；诊所会要求提供"
        "结婚证明和身份证件。" + STANDARD_ZH,
        "",
    ),
    "Ophthalmology": (
        None,
        "眼科疾病及手术方案的第二诊疗意见。",
        "",
        "",
        "",
    ),
    "Special-access eye devices": (
        "Whether a device or implant that is not generally approved may be used through a "
        "regulated special-access or clinical-research route.",
        "未常规获批的器械或植入物能否通过受监管的特殊准入或临床研究途径使用。",
        "A device not approved in the UK or China may be used only through a regulated "
        "special-access or research route, case by case with the institution's and the "
        "regulator's approval; follow-up at home may be difficult if UK clinicians do not "
        "know the device. " + STANDARD,
        "未在英国或中国获批的器械只能通过受监管的特殊准入或研究途径、经机构和监管部门逐例批准"
        "后使用；若英国医生不熟悉该器械，回国后的随访可能较困难。" + STANDARD_ZH,
        "",
    ),
    "Rehabilitation medicine": (
        None,
        "针对长期疾病和神经系统疾病的康复方案。",
        "",
        "",
        "",
    ),
    "Stem-cell therapy": (
        "Whether a registered clinical research study may be relevant; only within "
        "regulated clinical research.",
        "已备案的临床研究是否可能相关；仅限受监管的临床研究。",
        "In China stem-cell treatment is allowed only as regulated clinical research, in "
        "registered institutions and registered projects; for most conditions it is not an "
        "approved treatment. Be wary of clinics that charge for stem-cell 'cures' outside "
        "registered research: they are unregulated and can cause serious harm. " + STANDARD,
        "在中国，干细胞治疗只允许在已备案的机构、以已备案的临床研究项目形式开展；对大多数疾病"
        "而言并非获批的治疗。请警惕在已备案研究之外收费宣传干细胞“疗法”的机构：它们不受监管，"
        "可能造成严重伤害。" + STANDARD_ZH,
        "",
    ),
    "General medical review": (
        None,
        "在没有其他合适方向时的综合第二诊疗意见。",
        "",
        "",
        "",
    ),
}

OLD_HELPS = {
    "Advanced and special-access medicines": (
        "Medicines approved in China but not available in the UK."
    ),
    "Special-access eye devices": "Devices or implants not yet available in the UK.",
    "Stem-cell therapy": "Only within regulated clinical research.",
}


def update(apps, schema_editor):
    MedicalDirection = apps.get_model("cases", "MedicalDirection")
    for direction in MedicalDirection.objects.filter(name_en__in=DIRECTIONS):
        helps, helps_zh, caution, caution_zh, keywords = DIRECTIONS[direction.name_en]
        if helps and direction.helps_with == OLD_HELPS.get(direction.name_en):
            direction.helps_with = helps
        if not direction.helps_with_zh:
            direction.helps_with_zh = helps_zh
        if direction.cautions in {"", OLD_CAUTION} and caution:
            direction.cautions = caution
            direction.cautions_zh = caution_zh
        if not direction.keywords:
            direction.keywords = keywords
        direction.save()


def seed_terms(apps, schema_editor):
    """Start the term list from the glossary's fixed terms and the directions' names, so
    the two agree from the first day."""
    from cases.domain import glossary

    MedicalTerm = apps.get_model("cases", "MedicalTerm")
    MedicalDirection = apps.get_model("cases", "MedicalDirection")
    pairs: dict[str, str] = {}
    for group in ("Record categories", "Medical areas"):
        pairs.update(glossary.ALL[group])
    pairs.update(dict(MedicalDirection.objects.values_list("name_en", "name_zh")))
    pairs.update(glossary.CLINICAL_TERMS)
    for en, zh in pairs.items():
        MedicalTerm.objects.get_or_create(en=en, defaults={"zh": zh})


def grant_terms(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = ["view_medicalterm", "add_medicalterm", "change_medicalterm"]
    permissions = Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
    for name in ("coordinator", "translator", "manager"):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*permissions)


def seed(apps, schema_editor):
    update(apps, schema_editor)
    seed_terms(apps, schema_editor)
    grant_terms(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_workspace_release_translation_directions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
